/**
 * `npm run compact` as operators run it: the real script in a child process against real
 * LevelDB stores full of keystroke updates, then the real server on the same directory.
 */
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { SummaryReport } from '../../src/cli/compact-summary.js'
import { ExitCode } from '../../src/cli/exit-codes.js'
import { connectSynced } from '../helpers/clients.js'
import { buildStore, docImage, dumpLevel, logEntryCounts, readImages } from '../helpers/doc-store-fixtures.js'
import { runCli, startCli } from '../helpers/run-cli.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const ODD_NAMES = ['team/notes 📝', '😀 leading emoji', 'a']

function summaryOf(stdout: string): SummaryReport {
  return JSON.parse(stdout) as SummaryReport
}

// Each test runs the CLI several times as a child process on stores of thousands of
// updates: 10-20 s alone, past the default 30 s when the whole suite shares two cores.
describe('npm run compact on a stopped instance directory', { timeout: 90_000 }, () => {
  it('compacts every doc and the server then serves exactly the same documents', async () => {
    const dataDir = await tempDir('yws-compact-')
    const names = [
      ...(await buildStore(dataDir, { docs: 30, updatesPerDoc: 120 })),
      ...(await buildStore(dataDir, { docs: 0, updatesPerDoc: 300, names: ODD_NAMES, seed: 3 })),
    ]
    const before = await readImages(dataDir, names)

    const run = await runCli('compact.ts', ['--data-dir', dataDir, '--json'])
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    const summary = summaryOf(run.stdout)
    expect(summary).toMatchObject({
      mode: 'compact',
      docsScanned: names.length,
      docsCompacted: names.length,
      docsFailed: 0,
      logEntriesMerged: 30 * 120 + ODD_NAMES.length * 300,
      interrupted: false,
    })
    expect(summary.bytesAfter).toBeLessThan(summary.bytesBefore / 2)
    expect(run.stderr).toMatch(/compacting 33\/33 docs \(100\.0%\)/)
    expect([...(await logEntryCounts(dataDir)).values()].every((entries) => entries === 0)).toBe(true)

    const server = await startServer({ dataDir })
    for (const name of names) {
      const loaded = docImage((await server.app.store.load(name)).update)
      expect(loaded, name).toEqual(before.get(name))
    }
    const client = await connectSynced(server.url, ODD_NAMES[0]!)
    expect(client.text.toString()).toBe(before.get(ODD_NAMES[0]!)!.text)
    await server.close()

    // A second run has nothing left to merge.
    const again = await runCli('compact.ts', ['--data-dir', dataDir, '--json'])
    expect(again.code).toBe(ExitCode.ok)
    expect(summaryOf(again.stdout)).toMatchObject({ docsCompacted: 0, docsSkipped: names.length })
  })

  it('prints a readable summary table, and --doc / --prefix select docs', async () => {
    const dataDir = await tempDir('yws-compact-')
    await buildStore(dataDir, { docs: 6, updatesPerDoc: 40 })
    const one = await runCli('compact.ts', ['--data-dir', dataDir, '--doc', 'doc-0001'])
    expect(one.code, one.stderr).toBe(ExitCode.ok)
    expect(one.stdout).toMatch(/^compaction summary\n/)
    expect(one.stdout).toMatch(/docs compacted\s+1\n/)
    expect(one.stdout).toMatch(/log entries merged\s+40\n/)
    expect(one.stdout).toMatch(/throughput\s+[\d.]+ MB\/s of log/)
    const counts = await logEntryCounts(dataDir)
    expect(counts.get('doc-0001')).toBe(0)
    expect(counts.get('doc-0002')).toBe(40)

    const missing = await runCli('compact.ts', ['--data-dir', dataDir, '--doc', 'doc-00'])
    expect(missing.code).toBe(ExitCode.failure)
    expect(missing.stderr).toContain('no document named "doc-00"')

    const prefix = await runCli('compact.ts', [
      '--data-dir',
      dataDir,
      '--prefix',
      'doc-000',
      '--json',
      '--no-gc',
    ])
    expect(prefix.code).toBe(ExitCode.ok)
    expect(summaryOf(prefix.stdout)).toMatchObject({ gc: false, docsCompacted: 5, docsSkipped: 1 })
  })

  it('--dry-run changes no key and no byte', async () => {
    const dataDir = await tempDir('yws-compact-')
    await buildStore(dataDir, { docs: 8, updatesPerDoc: 100 })
    const before = await dumpLevel(dataDir)
    const run = await runCli('compact.ts', ['--data-dir', dataDir, '--dry-run', '--json'])
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    const summary = summaryOf(run.stdout)
    expect(summary).toMatchObject({ mode: 'dry-run', docsCompacted: 8, logEntriesMerged: 800 })
    expect(summary.bytesAfter).toBeLessThan(summary.bytesBefore)
    expect(await dumpLevel(dataDir)).toEqual(before)
  })

  it('survives SIGKILL mid-run: nothing is lost and a rerun finishes the job', async () => {
    const dataDir = await tempDir('yws-compact-')
    const names = await buildStore(dataDir, { docs: 60, updatesPerDoc: 300 })
    const before = await readImages(dataDir, names)

    const run = startCli('compact.ts', ['--data-dir', dataDir])
    await waitFor(() => /compacting [1-9]\d*\/60 docs/.test(run.output.stderr), {
      timeoutMs: 20_000,
      what: 'progress to show docs done',
    })
    run.process.kill('SIGKILL')
    expect(await run.exited).toBe('SIGKILL')

    // Killed mid-run: some docs are compacted, some not, and every doc is intact.
    const counts = [...(await logEntryCounts(dataDir)).values()]
    expect(counts.filter((entries) => entries === 0).length).toBeGreaterThan(0)
    expect(counts.filter((entries) => entries === 300).length).toBeGreaterThan(0)
    expect(counts.every((entries) => entries === 0 || entries === 300)).toBe(true)
    expect(await readImages(dataDir, names)).toEqual(before)

    const rerun = await runCli('compact.ts', ['--data-dir', dataDir, '--json'])
    expect(rerun.code, rerun.stderr).toBe(ExitCode.ok)
    const summary = summaryOf(rerun.stdout)
    expect(summary.docsCompacted).toBeGreaterThan(0)
    expect(summary.docsCompacted + summary.docsSkipped).toBe(60)
    expect([...(await logEntryCounts(dataDir)).values()].every((entries) => entries === 0)).toBe(true)
    expect(await readImages(dataDir, names)).toEqual(before)
  })

  it('on SIGINT finishes the doc in hand, prints the summary and exits 130', async () => {
    const dataDir = await tempDir('yws-compact-')
    const names = await buildStore(dataDir, { docs: 60, updatesPerDoc: 300 })
    const before = await readImages(dataDir, names)
    const run = startCli('compact.ts', ['--data-dir', dataDir])
    await waitFor(() => /compacting [1-9]\d*\/60 docs/.test(run.output.stderr), {
      timeoutMs: 20_000,
      what: 'progress to show docs done',
    })
    run.process.kill('SIGINT')
    expect(await run.exited).toBe(ExitCode.interrupted)
    expect(run.output.stderr).toContain('interrupted: finishing the doc in hand')
    expect(run.output.stdout).toContain('run the same command again to finish')
    const compacted = Number(/docs compacted\s+(\d+)/.exec(run.output.stdout)![1])
    expect(compacted).toBeGreaterThan(0)
    expect(compacted).toBeLessThan(60)
    const counts = [...(await logEntryCounts(dataDir)).values()]
    expect(counts.filter((entries) => entries === 0)).toHaveLength(compacted)
    expect(await readImages(dataDir, names)).toEqual(before)
  })

  it('a directory that is not a store is an error, and is not created', async () => {
    const dir = `${await tempDir('yws-compact-')}/nothing-here`
    const run = await runCli('compact.ts', ['--data-dir', dir])
    expect(run.code).toBe(ExitCode.failure)
    expect(run.stderr).toContain('is not a LevelDB data directory')
    expect(existsSync(dir)).toBe(false)
  })
})
