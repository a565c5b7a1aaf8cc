/**
 * LevelDocStore's lifecycle (issue 12): close() is one operation however often it is called,
 * and nothing is accepted after it (before: a second close resolved before the first had
 * finished, and an append after close started a retry loop against the closed DB).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { YwsError } from '../../src/errors.js'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { tempDir } from '../helpers/temp-dir.js'

function update(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('LevelDocStore lifecycle', () => {
  it('close() twice: both wait for the same close; appends afterwards throw YWS_ERR_CLOSED', async () => {
    const dir = await tempDir('yws-store-')
    const store = new LevelDocStore(dir, { flushIntervalMs: 1000 })
    await store.open()
    store.append('doc', update('kept'))
    const first = store.close()
    const second = store.close()
    expect(second).toBe(first)
    expect(() => store.append('doc', update('refused'))).toThrow(YwsError)
    expect(() => store.append('doc', update('refused'))).toThrow(/closed/)
    await first
    await expect(store.load('doc')).rejects.toMatchObject({ code: 'YWS_ERR_CLOSED' })

    // What was appended before close is on disk; nothing after it.
    const reopened = new LevelDocStore(dir)
    await reopened.open()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, (await reopened.load('doc')).update)
    expect(doc.getText('t').toString()).toBe('kept')
    await reopened.close()
  })

  it('a store never opened closes at once and refuses work', async () => {
    const store = new LevelDocStore(await tempDir('yws-store-'))
    await store.close()
    await store.close()
    expect(() => store.append('doc', update('x'))).toThrow(/not open/)
  })
})
