import { describe, expect, it } from 'vitest'
import { type HealthSource, readiness } from '../../src/http/http-routes.js'

function health(storage: boolean, relay: boolean, draining = false): HealthSource {
  return {
    isReady: () => storage && !draining,
    relayConnected: () => relay,
    readinessDetail: () => ({ storage, relay, draining }),
  }
}

const query = (text: string) => new URLSearchParams(text)

describe('readiness (/readyz)', () => {
  it('is 200 ready with storage open and Redis connected, whatever the query', () => {
    for (const q of ['', 'strict', 'allowDegraded']) {
      expect(readiness(health(true, true), query(q))).toEqual({
        status: 200,
        body: { status: 'ready', storage: true, relay: true, draining: false },
      })
    }
  })

  it('is 503 by default while Redis is away (the contract), saying why', () => {
    expect(readiness(health(true, false), query(''))).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        reason: 'redis disconnected',
        storage: true,
        relay: false,
        draining: false,
      },
    })
  })

  it('?strict is an alias of the default', () => {
    expect(readiness(health(true, false), query('strict'))).toEqual(readiness(health(true, false), query('')))
  })

  it('?allowDegraded opts in to 200 degraded while only Redis is away', () => {
    expect(readiness(health(true, false), query('allowDegraded'))).toEqual({
      status: 200,
      body: {
        status: 'degraded',
        reason: 'redis disconnected',
        storage: true,
        relay: false,
        draining: false,
      },
    })
    // Asked for both: the stricter answer.
    expect(readiness(health(true, false), query('allowDegraded&strict')).status).toBe(503)
  })

  it('?allowDegraded never hides closed storage or a drain', () => {
    expect(readiness(health(false, true), query('allowDegraded')).body).toMatchObject({
      status: 'not ready',
      reason: 'storage closed',
    })
    expect(readiness(health(true, true, true), query('allowDegraded'))).toMatchObject({
      status: 503,
      body: { status: 'not ready', reason: 'draining' },
    })
  })
})
