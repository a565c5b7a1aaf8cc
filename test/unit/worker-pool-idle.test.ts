/**
 * An idle worker thread exits (issue 16, memory): a thread is a whole V8 isolate, and the
 * pool used to keep one warm for the rest of the process's life after its first task.
 * Real piscina threads; the idle timeout is shortened so the test waits ~0.2 s, not 30 s.
 */

import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { encodeUpdate } from '../../src/protocol/messages.js'
import { WorkerPool } from '../../src/workers/worker-pool.js'

const IDLE_MS = 200

/** A valid sync update message with a little text. */
function updateMessage(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return encodeUpdate(Y.encodeStateAsUpdate(doc))
}

describe('WorkerPool idle threads', () => {
  let pool: WorkerPool | undefined
  afterEach(async () => {
    await pool?.close()
    pool = undefined
  })

  it('starts no thread before the first task', () => {
    pool = new WorkerPool(1, IDLE_MS)
    expect(pool.threadCount).toBe(0)
  })

  it('lets an idle thread exit, and starts one again for the next task', async () => {
    pool = new WorkerPool(1, IDLE_MS)
    await expect(pool.validateMessage(updateMessage('first'))).resolves.toEqual({ ok: true })
    expect(pool.threadCount).toBe(1)
    // Piscina tears the thread down IDLE_MS after its last task; nothing else to await.
    await vi.waitFor(() => expect(pool?.threadCount).toBe(0), { timeout: 10_000, interval: 20 })

    await expect(pool.validateMessage(updateMessage('second'))).resolves.toEqual({ ok: true })
    expect(pool.threadCount).toBe(1)
  }, 60_000)
})
