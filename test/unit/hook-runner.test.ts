import { describe, expect, it } from 'vitest'
import { HookRunner } from '../../src/hook-runner.js'
import type { Hooks } from '../../src/hooks.js'
import { createLogger } from '../../src/observability/logger.js'
import { Metrics } from '../../src/observability/metrics.js'
import { metricValue } from '../helpers/prometheus.js'

const change = { docName: 'd', update: new Uint8Array([0, 0]), origin: { kind: 'server' as const } }

function runner(sets: Hooks[]): { hooks: HookRunner; metrics: Metrics } {
  const metrics = new Metrics('test')
  return { hooks: new HookRunner(sets, createLogger('silent', 'test'), metrics), metrics }
}

describe('HookRunner.notifyUnlessSync (the per-update onChange path)', () => {
  it('returns undefined when every hook finished synchronously, having called them in order', () => {
    const calls: string[] = []
    const { hooks } = runner([
      { onChange: () => void calls.push('a') },
      {},
      { onChange: () => void calls.push('b') },
    ])
    expect(hooks.notifyUnlessSync('onChange', change)).toBeUndefined()
    expect(calls).toEqual(['a', 'b'])
  })

  it('counts a synchronous throw and still calls the next set', async () => {
    const calls: string[] = []
    const { hooks, metrics } = runner([
      {
        onChange: () => {
          throw new Error('boom')
        },
      },
      { onChange: () => void calls.push('after') },
    ])
    expect(hooks.notifyUnlessSync('onChange', change)).toBeUndefined()
    expect(calls).toEqual(['after'])
    expect(await metricValue(metrics.hookErrors, { hook: 'onChange' })).toBe(1)
  })

  it('awaits the first asynchronous hook before calling the sets after it, and idle() waits too', async () => {
    const calls: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const { hooks, metrics } = runner([
      { onChange: () => void calls.push('sync') },
      {
        onChange: async () => {
          await gate
          calls.push('slow')
          throw new Error('late')
        },
      },
      { onChange: () => void calls.push('last') },
    ])
    const pending = hooks.notifyUnlessSync('onChange', change)
    expect(pending).toBeInstanceOf(Promise)
    expect(calls).toEqual(['sync'])
    const idle = hooks.idle()
    release()
    await pending
    await idle
    expect(calls).toEqual(['sync', 'slow', 'last'])
    expect(await metricValue(metrics.hookErrors, { hook: 'onChange' })).toBe(1)
  })
})
