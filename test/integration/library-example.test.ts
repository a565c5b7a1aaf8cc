/**
 * examples/library/app.ts, the embedding example of docs/library.md, runs as documented:
 * auth against its user table, seeding from its database, bookkeeping on change, a search
 * index that follows stored changes, its own routes next to the mounted server.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { startExampleApp } from '../../examples/library/app.js'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest, rawUpgrade } from '../helpers/http.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

describe('examples/library', () => {
  it('authenticates, seeds, tracks editors and indexes, beside its own routes', async () => {
    const app = await startExampleApp({ dataDir: await tempDir('yws-example-') })
    onTestFinished(() => app.close())
    const url = `ws://127.0.0.1:${app.port}`

    expect((await rawUpgrade(app.port, '/handbook')).status).toBe(401)
    expect((await rawUpgrade(app.port, '/notes/alice?token=key-bob')).status).toBe(403)
    expect((await httpRequest(app.port, '/healthz')).status).toBe(200)

    const alice = await connectSynced(url, 'handbook', { params: { token: 'key-alice' } })
    const handbook = alice.doc.getText('content')
    expect(handbook.toString()).toBe('Welcome to the handbook.')
    handbook.insert(handbook.length, ' Zebras welcome.')
    await waitFor(() => app.lastEditors.get('handbook') === 'alice')
    await waitFor(
      async () => (await httpRequest(app.port, '/search?q=zebras')).json().docs.includes('handbook'),
      {
        what: 'the index to follow the stored change',
      },
    )

    // Bob may read but not write.
    const bob = await connectSynced(url, 'handbook', { params: { token: 'key-bob' } })
    bob.doc.getText('content').insert(0, 'vandalism ')
    await waitFor(() => bob.doc.getText('content').toString().endsWith('Zebras welcome.'))
    const check = await connectSynced(url, 'handbook', { params: { token: 'key-alice' } })
    expect(check.doc.getText('content').toString()).toBe('Welcome to the handbook. Zebras welcome.')
  })
})
