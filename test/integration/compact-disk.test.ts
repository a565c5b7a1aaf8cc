/**
 * Compaction gives disk space back: after `compact --data-dir`, the LevelDB directory itself
 * is smaller, not only the logical byte count (issue 11: it used to grow).
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SummaryReport } from '../../src/cli/compact-summary.js'
import { ExitCode } from '../../src/cli/exit-codes.js'
import { buildStore, readImages } from '../helpers/doc-store-fixtures.js'
import { runCli } from '../helpers/run-cli.js'
import { tempDir } from '../helpers/temp-dir.js'

async function directoryBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

describe('compact --data-dir on disk', () => {
  it('leaves the directory smaller and reports its size before and after', async () => {
    const dataDir = await tempDir('yws-compact-disk-')
    const names = await buildStore(dataDir, { docs: 5, updatesPerDoc: 300 })
    const images = await readImages(dataDir, names)
    const before = await directoryBytes(dataDir)

    const run = await runCli('compact.ts', ['--data-dir', dataDir, '--json'])
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    const summary = JSON.parse(run.stdout) as SummaryReport
    const after = await directoryBytes(dataDir)

    expect(summary.docsCompacted).toBe(5)
    expect(summary.bytesAfter).toBeLessThan(summary.bytesBefore)
    console.info(
      `compact-disk: directory ${before} -> ${after} bytes, logical ${summary.bytesBefore} -> ${summary.bytesAfter}`,
    )
    expect(after, `directory ${before} -> ${after} bytes`).toBeLessThan(before * 0.8)
    // The CLI measures with the store open (opening rewrites LOG and MANIFEST, a few
    // hundred bytes), so its figures are close to ours, not equal.
    expect(Math.abs(summary.diskBytesBefore! - before)).toBeLessThan(before * 0.05)
    expect(Math.abs(summary.diskBytesAfter! - after)).toBeLessThan(after * 0.2)
    expect(await readImages(dataDir, names)).toEqual(images)
  })

  it('prints both directory sizes in the summary table', async () => {
    const dataDir = await tempDir('yws-compact-disk-')
    await buildStore(dataDir, { docs: 2, updatesPerDoc: 100 })
    const run = await runCli('compact.ts', ['--data-dir', dataDir, '--quiet'])
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    expect(run.stdout).toMatch(/directory before +\d/)
    expect(run.stdout).toMatch(/directory after +[\d.]+ (B|kB|MB) \(-\d+\.\d%\)/)
  })
})
