import { describe, expect, it } from 'vitest'
import { StallWatch } from '../../src/relay/stall-watch.js'

describe('StallWatch', () => {
  it('names the first late turn of a stall, then the ones that continue it, until a turn is on time', () => {
    const watch = new StallWatch(100, 0)
    expect([50, 300, 500, 550, 800].map((now) => watch.turn(now))).toEqual([
      undefined,
      'began',
      'continues',
      undefined,
      'began',
    ])
  })

  it('with stallMs 0 (trimMarginMs 0) every turn is late: one stall that never ends', () => {
    const watch = new StallWatch(0, 0)
    expect([1, 2, 3, 4].map((now) => watch.turn(now))).toEqual([
      'began',
      'continues',
      'continues',
      'continues',
    ])
  })

  it('restart moves the clock without a verdict (a wait for a reconnect is no stall)', () => {
    const watch = new StallWatch(100, 0)
    watch.restart(10_000)
    expect(watch.turn(10_050)).toBeUndefined()
  })
})
