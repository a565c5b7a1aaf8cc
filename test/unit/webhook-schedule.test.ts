import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { GIVE_UP_AFTER_MS, retryDelayMs, shouldGiveUp } from '../../src/webhooks/retry-schedule.js'
import { changedBody, mergeStateVectors } from '../../src/webhooks/webhook-event.js'
import { dueAt, LocalWindowBoard } from '../../src/webhooks/window-board.js'

describe('retryDelayMs', () => {
  it('starts at the minimum, doubles, and stops at one hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 5000))).toEqual([5000, 10_000, 20_000, 40_000])
    expect(retryDelayMs(10, 5000)).toBe(2_560_000)
    expect(retryDelayMs(11, 5000)).toBe(3_600_000)
    expect(retryDelayMs(1000, 5000)).toBe(3_600_000)
  })

  it('keeps retrying for at least 24 h with the default minimum: 34 attempts', () => {
    // Attempt at `elapsed`; it fails; give up or wait.
    let elapsed = 0
    let attempts = 1
    while (!shouldGiveUp(0, elapsed)) {
      elapsed += retryDelayMs(attempts, 5000)
      attempts += 1
    }
    expect(elapsed).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS)
    expect(elapsed).toBeLessThan(GIVE_UP_AFTER_MS + 3_600_000)
    expect(attempts).toBe(34)
  })
})

describe('windows', () => {
  it('close at debounce after the last change or max wait after the first, whichever is first', () => {
    const timing = { debounceMs: 2000, maxWaitMs: 10_000 }
    expect(dueAt({ firstChangeAt: 0, lastChangeAt: 500 }, timing)).toBe(2500)
    expect(dueAt({ firstChangeAt: 0, lastChangeAt: 9000 }, timing)).toBe(10_000)
  })

  it('LocalWindowBoard claims a due window once, with its users, and a later change opens a new one', async () => {
    let now = 1000
    const board = new LocalWindowBoard({ debounceMs: 100, maxWaitMs: 1000 }, () => now)
    await board.record({ doc: 'd', firstAgeMs: 0, lastAgeMs: 0, users: ['b', 'a'], stateVector: undefined })
    expect(await board.claimDue(10)).toEqual([])
    now += 100
    const [window] = await board.claimDue(10)
    expect(window).toMatchObject({ doc: 'd', firstChangeAt: 1000, lastChangeAt: 1000, closedAt: 1100 })
    expect(await board.claimDue(10)).toEqual([])
    await board.record({ doc: 'd', firstAgeMs: 0, lastAgeMs: 0, users: [], stateVector: undefined })
    expect(board.claimAll()[0]!.id).not.toBe(window!.id)
    expect(changedBody(window!).data.users).toEqual(['a', 'b'])
  })
})

describe('mergeStateVectors', () => {
  it('takes the highest clock per client over every instance, skipping garbage', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.getText('t').insert(0, 'aaa')
    b.getText('t').insert(0, 'b')
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const views = [a, b].map((doc) => Buffer.from(Y.encodeStateVector(doc)).toString('base64'))
    const merged = Y.decodeStateVector(mergeStateVectors([views[0]!, '!!not base64 of a vector', views[1]!]))
    expect(merged).toEqual(Y.decodeStateVector(Y.encodeStateVector(b)))
  })
})
