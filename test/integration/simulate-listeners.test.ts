/**
 * A simulation of more than ten editors in one process printed Node's
 * "MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 exit listeners
 * added to [process]" (newcomer finding, 2026-12-01: `simulate --docs 4 --editors 3`): each
 * y-websocket provider adds a process 'exit' listener. Not a leak — each is removed when its
 * editor is destroyed — so the run raises the limit by its editor count and gives it back.
 * A file of its own: Node warns once per process and event name.
 */
import { describe, expect, it } from 'vitest'
import { simulateEditors } from '../../src/testing/index.js'
import { startServer } from '../helpers/server.js'

describe('simulateEditors with many editors', () => {
  it('adds no MaxListenersExceededWarning and leaves the process limit as it was', async () => {
    const server = await startServer()
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    const limitBefore = process.getMaxListeners()
    try {
      const verdict = await simulateEditors({
        urls: [server.url],
        docs: 4,
        editors: 3,
        rate: 4,
        durationMs: 500,
      })
      expect(verdict.ok).toBe(true)
      // The warning is emitted on the next tick after the listener that passed the limit.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([])
    expect(process.getMaxListeners()).toBe(limitBefore)
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(limitBefore)
  })
})
