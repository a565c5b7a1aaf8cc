/**
 * Operator commands for version history: `history` and `restore` through a running
 * instance, and `compact --history-keep` (offline on a data directory and through --url)
 * pruning history, freeing its disk and reporting history bytes.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { CliCommand } from '../../src/cli/command.js'
import { historyCommand } from '../../src/cli/history-command.js'
import { restoreCommand } from '../../src/cli/restore-command.js'
import { CheckpointStore } from '../../src/history/checkpoint-store.js'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest } from '../helpers/http.js'
import { runCli } from '../helpers/run-cli.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TEST_ADMIN_TOKEN } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

async function run(command: CliCommand, argv: string[], env: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, callback) {
        append(String(chunk))
        callback()
      },
    })
  const code = await command.run(argv, {
    stdout: sink((text) => {
      stdout += text
    }),
    stderr: sink((text) => {
      stderr += text
    }),
    env,
    signal: new AbortController().signal,
  })
  return { code, stdout, stderr }
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

/** A doc whose every state is ~`size` bytes of incompressible-ish text. */
function bigState(seed: number, size: number): Uint8Array {
  const doc = new Y.Doc()
  let text = ''
  let x = seed
  while (text.length < size) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    text += x.toString(36)
  }
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('history and restore commands', () => {
  it('list a doc’s versions and restore one through --url; usage errors exit 2', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN, historyIntervalMs: 0 })
    const client = await connectSynced(server.url, 'ops/doc')
    client.text.insert(0, 'keep this')
    await waitFor(() => server.app.registry.get('ops/doc')?.doc.getText('t').length === 9)
    const created = await httpRequest(server.port, '/admin/docs/ops%2Fdoc/versions', {
      method: 'POST',
      headers: ADMIN,
      body: { label: 'before edits' },
    })
    const id = created.json().id as string
    client.text.delete(0, 5)
    const url = `http://127.0.0.1:${server.port}`
    const env = { ADMIN_TOKEN: TEST_ADMIN_TOKEN }

    const listed = await run(historyCommand, ['--url', url, '--doc', 'ops/doc'], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain(id)
    expect(listed.stdout).toContain('before edits')
    expect(listed.stdout).toMatch(/1 versions, .* of history/)
    const json = await run(historyCommand, ['--url', url, '--doc', 'ops/doc', '--json'], env)
    expect(JSON.parse(json.stdout)[0].id).toBe(id)

    const restored = await run(
      restoreCommand,
      ['--url', url, '--doc', 'ops/doc', '--version', id, '--json'],
      env,
    )
    expect(restored.code, restored.stderr).toBe(0)
    expect(JSON.parse(restored.stdout).restored).toBe(id)
    await waitFor(() => client.text.toString() === 'keep this')

    const unknown = await run(
      restoreCommand,
      ['--url', url, '--doc', 'ops/doc', '--version', '000000000000000'],
      env,
    )
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('404')
    expect((await run(restoreCommand, ['--url', url, '--doc', 'ops/doc'], env)).code).toBe(2)
    expect((await run(historyCommand, ['--url', url, '--doc', 'ops/doc'])).code).toBe(2)
    const refused = await run(historyCommand, [
      '--url',
      url,
      '--doc',
      'x',
      '--admin-token',
      'wrong-token-0123456',
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('refused the admin token')
  })
})

describe('compact --history-keep', () => {
  it('on a data directory: prunes to N, frees the disk, reports history bytes; compaction kept the rest', async () => {
    const dataDir = await tempDir('yws-histcli-')
    const store = new LevelDocStore(dataDir, { compactLogBytes: 0 })
    await store.open()
    const history = new CheckpointStore(store.database)
    let last: Uint8Array = new Uint8Array()
    for (let i = 0; i < 12; i++) {
      last = bigState(i + 1, 200_000)
      await history.put('big', last, { users: ['ann'] })
    }
    store.append('big', last)
    await store.close()
    const before = await dirBytes(dataDir)

    const dry = await runCli('compact.ts', [
      '--data-dir',
      dataDir,
      '--history-keep',
      '2',
      '--dry-run',
      '--json',
    ])
    expect(dry.code, dry.stderr).toBe(0)
    expect(JSON.parse(dry.stdout)).toMatchObject({ historyVersions: 2, historyVersionsPruned: 10 })

    const result = await runCli('compact.ts', ['--data-dir', dataDir, '--history-keep', '2', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.historyVersions).toBe(2)
    expect(report.historyVersionsPruned).toBe(10)
    expect(report.historyBytesPruned).toBeGreaterThan(10 * 200_000)
    const after = await dirBytes(dataDir)
    console.info(`history pruning: data dir ${before} -> ${after} bytes`)
    expect(after).toBeLessThan(before - 5 * 200_000)

    const text = await runCli('compact.ts', ['--data-dir', dataDir])
    expect(text.stdout).toMatch(/history\s+2 versions, \d/)
    const reopened = new LevelDocStore(dataDir, { compactLogBytes: 0 })
    await reopened.open()
    const versions = await new CheckpointStore(reopened.database).list('big')
    expect(versions).toHaveLength(2)
    await reopened.close()
  })

  it('through --url: the running instance prunes and reports', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN, historyIntervalMs: 0 })
    const client = await connectSynced(server.url, 'remote')
    for (let i = 0; i < 4; i++) {
      client.text.insert(0, `${i}`)
      await waitFor(() => server.app.registry.get('remote')?.doc.getText('t').length === i + 1)
      await httpRequest(server.port, '/admin/docs/remote/versions', { method: 'POST', headers: ADMIN })
    }
    const url = `http://127.0.0.1:${server.port}`
    const result = await runCli('compact.ts', ['--url', url, '--history-keep', '1', '--json'], {
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    })
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ historyVersions: 1, historyVersionsPruned: 3 })
    const listed = await httpRequest(server.port, '/admin/docs/remote/versions', { headers: ADMIN })
    expect(listed.json()).toHaveLength(1)
    const bad = await httpRequest(server.port, '/admin/docs/remote/versions/prune', {
      method: 'POST',
      headers: ADMIN,
      body: { keep: 0 },
    })
    expect(bad.status).toBe(400)
  })
})
