import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ChangeHookQueue } from '../../src/room/change-hooks.js'
import { DocSizeBudget } from '../../src/room/doc-size-budget.js'
import { UpdateReceiver } from '../../src/room/receive.js'

describe('DocSizeBudget', () => {
  it('counts accepted bytes and measures only when the bound would pass the limit', () => {
    let measured = 0
    const budget = new DocSizeBudget(100, 40, () => {
      measured += 1
      return 30
    })
    expect(budget.fits(60)).toBe(true)
    budget.grew(50)
    expect(measured).toBe(0)
    // 90 + 20 > 100: measured (30), then 30 + 20 fits.
    expect(budget.fits(20)).toBe(true)
    expect(measured).toBe(1)
    expect(budget.fits(71)).toBe(false)
  })
})

describe('ChangeHookQueue', () => {
  it('starts a change’s hooks only after the previous change’s finished, in order', async () => {
    const started: number[] = []
    const finish = new Map<number, () => void>()
    const queue = new ChangeHookQueue<{ n: number; origin: { kind: 'server' } }>((change) => {
      started.push(change.n)
      return new Promise<void>((resolve) => finish.set(change.n, resolve))
    })
    const first = queue.report({ n: 1, origin: { kind: 'server' } })
    const second = queue.report({ n: 2, origin: { kind: 'server' } })
    expect(started).toEqual([1])
    finish.get(1)?.()
    await first
    await new Promise<void>((resolve) => {
      const check = () => (finish.has(2) ? resolve() : setImmediate(check))
      check()
    })
    expect(started).toEqual([1, 2])
    finish.get(2)?.()
    await second
  })

  it('returns nothing when the handler has nothing to wait for', () => {
    const queue = new ChangeHookQueue<{ origin: { kind: 'api' } }>(() => undefined)
    expect(queue.report({ origin: { kind: 'api' } })).toBeUndefined()
  })
})

describe('UpdateReceiver', () => {
  it('tells whether an update changed the doc, without the doc encoding it for the room', () => {
    const author = new Y.Doc()
    const updates: Uint8Array[] = []
    author.on('update', (update: Uint8Array) => updates.push(update))
    author.getText('t').insert(0, 'ab')
    author.getText('t').delete(0, 1)
    const doc = new Y.Doc()
    const heard: Uint8Array[] = []
    const listener = (update: Uint8Array) => heard.push(update)
    doc.on('update', listener)
    const receiver = new UpdateReceiver(listener)
    const none = () => expect.unreachable()
    expect(receiver.apply(doc, updates[0]!, 'c', none)).toBe(true)
    expect(receiver.apply(doc, updates[0]!, 'c', none)).toBe(false)
    // A delete only: no clock moves, the delete set does.
    expect(receiver.apply(doc, updates[1]!, 'c', none)).toBe(true)
    expect(heard).toEqual([])
    expect(doc.getText('t').toString()).toBe('b')
    // The listener is back for the doc's own changes.
    doc.getText('t').insert(0, 'x')
    expect(heard).toHaveLength(1)
  })

  it('keeps telling right when the doc changes between updates and when it is rebuilt', () => {
    const author = new Y.Doc()
    const updates: Uint8Array[] = []
    author.on('update', (update: Uint8Array) => updates.push(update))
    for (const c of 'abc') author.getText('t').insert(0, c)
    const heard: Uint8Array[] = []
    const listener = (update: Uint8Array) => heard.push(update)
    const receiver = new UpdateReceiver(listener)
    const none = () => expect.unreachable()
    // A room's doc is swept and rebuilt: the same receiver applies to the next Y.Doc.
    for (const doc of [new Y.Doc(), new Y.Doc()]) {
      doc.on('update', listener)
      heard.length = 0
      expect(receiver.apply(doc, updates[0]!, 'c', none)).toBe(true)
      // A change of the doc's own (API write, hook) between two received updates.
      doc.getText('u').insert(0, 'local')
      expect(heard).toHaveLength(1)
      expect(receiver.apply(doc, updates[0]!, 'c', none)).toBe(false)
      expect(receiver.apply(doc, updates[1]!, 'c', none)).toBe(true)
      expect(heard).toHaveLength(1)
      expect(doc.getText('t').toString()).toBe('ba')
      doc.destroy()
    }
  })
})
