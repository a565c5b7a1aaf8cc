/**
 * `npm run compact` next to a running server (refusal, admin endpoint), `--verify` on a
 * damaged store, and command-line errors: the real script in a child process.
 */
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import type { SummaryReport } from '../../src/cli/compact-summary.js'
import { ExitCode } from '../../src/cli/exit-codes.js'
import { connectSynced } from '../helpers/clients.js'
import { buildStore, docImage, dumpLevel, logEntryCounts, readImages } from '../helpers/doc-store-fixtures.js'
import { runCli } from '../helpers/run-cli.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

function summaryOf(stdout: string): SummaryReport {
  return JSON.parse(stdout) as SummaryReport
}

describe('npm run compact against a live instance', () => {
  it('refuses a directory held by a running server, with the way out, and changes nothing', async () => {
    const dataDir = await tempDir('yws-compact-')
    await buildStore(dataDir, { docs: 3, updatesPerDoc: 50 })
    const server = await startServer({ dataDir })
    const run = await runCli('compact.ts', ['--data-dir', dataDir, '--prefix', 'doc-'])
    expect(run.code).toBe(ExitCode.storeLocked)
    // One line (newcomer finding 9: it was five), with the way out.
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `error: ${dataDir} is locked by a running instance; nothing was read or changed. Stop it, or compact through it: yjs-cluster-server compact --url http://HOST:PORT --admin-token "$ADMIN_TOKEN" --prefix "doc-"`,
    ])
    expect(run.stdout).toBe('')
    const client = await connectSynced(server.url, 'doc-0000')
    expect(client.text.length).toBeGreaterThan(0)
    const stats = []
    for await (const doc of server.app.store.listDocs()) stats.push(doc)
    expect(stats.map((doc) => doc.logEntries)).toEqual([50, 50, 50])
  })

  it('compacts through the admin endpoint while clients stay connected', async () => {
    const dataDir = await tempDir('yws-compact-')
    const names = await buildStore(dataDir, { docs: 5, updatesPerDoc: 100 })
    const before = await readImages(dataDir, names)
    const server = await startServer({ dataDir, adminToken: 'operator-secret' })
    const client = await connectSynced(server.url, 'doc-0002')
    const httpUrl = `http://127.0.0.1:${server.port}`

    const run = await runCli('compact.ts', ['--url', httpUrl, '--json'], { ADMIN_TOKEN: 'operator-secret' })
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    expect(summaryOf(run.stdout)).toMatchObject({
      target: httpUrl,
      docsCompacted: 5,
      logEntriesMerged: 500,
    })
    for await (const doc of server.app.store.listDocs()) expect(doc.logEntries).toBe(0)
    for (const name of names) {
      expect(docImage((await server.app.store.load(name)).update), name).toEqual(before.get(name))
    }
    // The live room keeps working on top of the new snapshot.
    client.text.insert(0, 'after compaction ')
    const other = await connectSynced(server.url, 'doc-0002')
    await waitFor(() => other.text.toString() === client.text.toString())
    expect(other.text.toString()).toBe(`after compaction ${before.get('doc-0002')!.text}`)

    const refused = await runCli('compact.ts', ['--url', httpUrl, '--admin-token', 'wrong'])
    expect(refused.code).toBe(ExitCode.failure)
    expect(refused.stderr).toContain('refused the admin token')
  })
})

describe('npm run compact --verify', () => {
  it('names the doc whose entry does not decode; compaction leaves that doc alone', async () => {
    const dataDir = await tempDir('yws-compact-')
    await buildStore(dataDir, { docs: 4, updatesPerDoc: 30 })
    const clean = await runCli('compact.ts', ['--data-dir', dataDir, '--verify'])
    expect(clean.code, clean.stderr).toBe(ExitCode.ok)
    expect(clean.stdout).toMatch(/docs broken\s+0/)

    const db = new Level<string, Uint8Array>(dataDir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.put(
      'd\u0000doc-0002\u0000l00000000000000000bad',
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x07]),
    )
    await db.close()
    const before = await dumpLevel(dataDir)

    const verify = await runCli('compact.ts', ['--data-dir', dataDir, '--verify'])
    expect(verify.code).toBe(ExitCode.failure)
    expect(verify.stdout).toMatch(/docs broken\s+1/)
    expect(verify.stdout).toMatch(/broken docs:\n {2}"doc-0002": log entry .* does not decode/)
    const json = await runCli('compact.ts', ['--data-dir', dataDir, '--verify', '--json'])
    expect(summaryOf(json.stdout).broken.map((problem) => problem.doc)).toEqual(['doc-0002'])
    expect(await dumpLevel(dataDir)).toEqual(before)

    const compact = await runCli('compact.ts', ['--data-dir', dataDir, '--json'])
    expect(compact.code).toBe(ExitCode.failure)
    const summary = summaryOf(compact.stdout)
    expect(summary).toMatchObject({ docsCompacted: 3, docsFailed: 1 })
    expect(summary.failures.map((failure) => failure.doc)).toEqual(['doc-0002'])
    expect((await logEntryCounts(dataDir)).get('doc-0002')).toBe(31)
  })
})

describe('npm run compact usage errors', () => {
  it.each([
    [['--data-dir', '/tmp/x', '--bogus'], "Unknown option '--bogus'"],
    [['--doc', 'a'], 'give exactly one of --data-dir DIR or --url URL'],
  ])('%j exits 2 with usage on stderr', async (args, message) => {
    const run = await runCli('compact.ts', args)
    expect(run.code).toBe(ExitCode.usage)
    expect(run.stderr).toContain(message)
    expect(run.stderr).toContain('usage: yjs-cluster-server compact')
    expect(run.stdout).toBe('')
  })
})
