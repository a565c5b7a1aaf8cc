/**
 * A process SIGKILLed in the middle of a big (chunked) compaction: nothing stored is lost and
 * no partial snapshot ever loads (src/storage/level-backend.ts, "Why chunks"). The child
 * (test/helpers/snapshot-crash-child.ts) stops after a given chunk put and is killed there;
 * the step-by-step interruptions of every write are in test/unit/level-doc-store.test.ts.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { bigDocUpdates, textOf } from '../helpers/snapshot-crash-doc.js'
import { tempDir } from '../helpers/temp-dir.js'

const CHILD = fileURLToPath(new URL('../helpers/snapshot-crash-child.ts', import.meta.url))

/** Runs the child until it prints `until`, then SIGKILLs it (or lets it exit if `until` is 'compacted'). */
async function runChild(dataDir: string, stopAfterPuts: number, until: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, DATA_DIR: dataDir, STOP_AFTER_PUTS: String(stopAfterPuts) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(String(signal ?? code))),
  )
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const seen = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === until) resolve(line)
    })
    void exited.then((code) => resolve(`exited ${code}: ${stderr}`))
  })
  expect(seen).toBe(until)
  if (until === 'stopped') child.kill('SIGKILL')
  return exited
}

describe('a big compaction killed with SIGKILL', () => {
  it('loses nothing and never loads a partial snapshot, with or without an earlier chunked snapshot', async () => {
    const expected = textOf(Y.mergeUpdates(bigDocUpdates()))
    const dataDir = await tempDir('yws-crash-')
    const stored = async () => {
      const store = new LevelDocStore(dataDir, { compactLogBytes: 0 })
      await store.open()
      const loaded = await store.load('big')
      const chunkIds = new Set<string>()
      for await (const key of store.database.keys({ gte: 'd\u0000big\u0000c', lt: 'd\u0000big\u0000d' }))
        chunkIds.add(key.split('.')[0]!)
      await store.close()
      return {
        text: textOf(loaded.update),
        snapshot: loaded.snapshotBytes > 0,
        log: loaded.logEntries,
        chunkIds: chunkIds.size,
      }
    }
    const entries = bigDocUpdates().length

    // Killed after its first chunk: the log is intact, the chunk is a leftover.
    expect(await runChild(dataDir, 1, 'stopped')).toBe('SIGKILL')
    expect(await stored()).toEqual({ text: expected, snapshot: false, log: entries, chunkIds: 1 })
    // The next process compacts over the leftover.
    expect(await runChild(dataDir, Number.POSITIVE_INFINITY, 'compacted')).toBe('0')
    expect(await stored()).toEqual({ text: expected, snapshot: true, log: 0, chunkIds: 1 })
    // Killed after two chunks of a compaction that would replace a chunked snapshot (the
    // child stores the doc's updates again: duplicates, which Yjs ignores).
    expect(await runChild(dataDir, 2, 'stopped')).toBe('SIGKILL')
    expect(await stored()).toEqual({ text: expected, snapshot: true, log: entries, chunkIds: 2 })
    expect(await runChild(dataDir, Number.POSITIVE_INFINITY, 'compacted')).toBe('0')
    expect(await stored()).toEqual({ text: expected, snapshot: true, log: 0, chunkIds: 1 })
  })
})
