import { describe, expect, it } from 'vitest'
import { type AwarenessIdStatus, judgeAwarenessEntry } from '../../src/room/awareness-ownership.js'

const entry = (clock: number, state: unknown = { user: 'x' }) => ({ clientId: 7, clock, state })
const anonymous = { subject: undefined }
const status = (overrides: Partial<AwarenessIdStatus>): AwarenessIdStatus => ({
  owner: undefined,
  clock: undefined,
  held: false,
  ...overrides,
})

describe('judgeAwarenessEntry', () => {
  it('lets the owner speak, whatever the clock (the protocol drops stale ones)', () => {
    const owner = { subject: undefined, isSender: true }
    expect(judgeAwarenessEntry(entry(1), anonymous, status({ owner, clock: 5, held: true }))).toBe('apply')
  })

  it('ignores echoes of a state another connection owns', () => {
    const owner = { subject: 'ada', isSender: false }
    expect(judgeAwarenessEntry(entry(5), { subject: 'bob' }, status({ owner, clock: 5, held: true }))).toBe(
      'ignore',
    )
    expect(
      judgeAwarenessEntry(entry(5, null), { subject: 'bob' }, status({ owner, clock: 5, held: true })),
    ).toBe('ignore')
  })

  it('refuses a newer clock for another user’s state, and hands it over within one user', () => {
    const owner = { subject: 'ada', isSender: false }
    const held = status({ owner, clock: 5, held: true })
    expect(judgeAwarenessEntry(entry(6), { subject: 'bob' }, held)).toBe('spoof')
    expect(
      judgeAwarenessEntry(
        entry(6),
        anonymous,
        status({ ...held, owner: { subject: undefined, isSender: false } }),
      ),
    ).toBe('spoof')
    expect(judgeAwarenessEntry(entry(6), { subject: 'ada' }, held)).toBe('apply')
  })

  it('asks a returning client with an unchanged clock to re-announce, without applying', () => {
    expect(judgeAwarenessEntry(entry(5), anonymous, status({ clock: 5 }))).toBe('reannounce')
    expect(judgeAwarenessEntry(entry(5, null), anonymous, status({ clock: 5 }))).toBe('ignore')
  })

  it('applies a newer state nobody here owns, and leaves relayed states alone otherwise', () => {
    expect(judgeAwarenessEntry(entry(6), anonymous, status({ clock: 5 }))).toBe('apply')
    expect(judgeAwarenessEntry(entry(5), anonymous, status({ clock: 5, held: true }))).toBe('ignore')
  })

  it('applies an id new to this room and asks for a re-announce (peers may hold its clock)', () => {
    expect(judgeAwarenessEntry(entry(3), anonymous, status({}))).toBe('apply-and-reannounce')
    expect(judgeAwarenessEntry(entry(3, null), anonymous, status({}))).toBe('ignore')
  })
})
