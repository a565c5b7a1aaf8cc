/**
 * The store core's write path and lifecycle against a backend that fails on demand (issue 12:
 * a failed write is retried and never dropped; once closing, no retry timer is armed against
 * a closed database — before: 4 flush errors in 0.9 s and the process alive > 8 s after close).
 * Timers are faked so "no retry" is a count of armed timers, not a wait.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { BaseDocStore } from '../../src/storage/base-doc-store.js'
import type { DocStats } from '../../src/storage/doc-store.js'
import type { LogWrite, StoreBackend, StoredDoc } from '../../src/storage/store-backend.js'

class FlakyBackend implements StoreBackend {
  readonly location = 'flaky'
  failWrites = 0
  readonly written: LogWrite[] = []
  writeCalls = 0
  closes = 0
  async open(): Promise<void> {}
  async close(): Promise<void> {
    this.closes += 1
  }
  async readDoc(): Promise<StoredDoc> {
    return { snapshot: undefined, log: [] }
  }
  async writeBatch(entries: readonly LogWrite[]): Promise<void> {
    this.writeCalls += 1
    if (this.failWrites > 0) {
      this.failWrites -= 1
      throw new Error('disk full')
    }
    this.written.push(...entries)
  }
  async commitCompaction(): Promise<void> {}
  async *listDocs(): AsyncIterable<DocStats> {}
  async deleteDoc(): Promise<void> {}
  async generation(): Promise<number> {
    return 0
  }
}

function update(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

async function openStore(backend: FlakyBackend, errors: unknown[]) {
  const store = new BaseDocStore(backend, {
    flushIntervalMs: 100,
    compactLogBytes: 0,
    observer: { onFlushError: (error) => errors.push(error) },
  })
  await store.open()
  return store
}

describe('BaseDocStore write path', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries a failed write until it lands; nothing is dropped', async () => {
    const backend = new FlakyBackend()
    const errors: unknown[] = []
    const store = await openStore(backend, errors)
    backend.failWrites = 2
    store.append('doc', update('a'))
    store.append('doc', update('b'))
    await vi.advanceTimersByTimeAsync(100) // the flush interval: fails
    await vi.advanceTimersByTimeAsync(250) // first retry: fails
    expect([backend.written.length, errors.length]).toEqual([0, 2])
    store.append('doc', update('c'))
    await vi.advanceTimersByTimeAsync(250) // second retry carries all three
    expect(backend.written.map((entry) => entry.seq)).toEqual([1, 2, 3])
    expect(vi.getTimerCount()).toBe(0)
    await store.close()
  })

  it('closing with a failing write: close rejects, the backend still closes, no retry timer is left', async () => {
    const backend = new FlakyBackend()
    const errors: unknown[] = []
    const store = await openStore(backend, errors)
    backend.failWrites = 100
    store.append('doc', update('lost'))
    const closing = store.close()
    expect(store.close()).toBe(closing)
    await expect(closing).rejects.toThrow(/disk full/)
    expect([store.state, backend.closes, backend.writeCalls]).toEqual(['closed', 1, 1])
    expect(vi.getTimerCount()).toBe(0)
    expect(() => store.append('doc', update('late'))).toThrow(/closed/)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect([backend.writeCalls, errors.length]).toEqual([1, 0])
  })

  it('a write failing just before close is not retried by a timer once close began', async () => {
    const backend = new FlakyBackend()
    const errors: unknown[] = []
    const store = await openStore(backend, errors)
    backend.failWrites = 1
    store.append('doc', update('a'))
    await vi.advanceTimersByTimeAsync(100) // fails; a retry is armed
    expect(vi.getTimerCount()).toBe(1)
    await store.close() // cancels the retry, writes once itself
    expect([backend.written.length, backend.writeCalls, vi.getTimerCount()]).toEqual([1, 2, 0])
  })

  it('close() while opening waits for the open, then closes; open() after close is refused', async () => {
    const backend = new FlakyBackend()
    const store = new BaseDocStore(backend)
    const opening = store.open()
    const closing = store.close()
    await opening
    await closing
    expect([store.state, backend.closes]).toEqual(['closed', 1])
    await expect(store.open()).rejects.toMatchObject({ code: 'YWS_ERR_CLOSED' })
  })
})
