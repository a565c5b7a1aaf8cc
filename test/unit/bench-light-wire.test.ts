/**
 * The light generator's hand-written codecs against real Yjs: its traces must be updates any
 * server accepts and integrates, and its header scan must time edits however a server re-encodes.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { BulkTrace } from '../../bench/light/bulk.js'
import { Trace } from '../../bench/light/trace.js'
import {
  readEnvelope,
  readStateVector,
  SYNC_STEP1,
  SYNC_UPDATE,
  scanUpdate,
  syncStep1Empty,
  updateMessage,
} from '../../bench/light/wire.js'

function scan(update: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = []
  scanUpdate(update, 0, update.length, (c, k) => out.push([c, k]))
  return out
}

describe('Trace', () => {
  it('writes updates Yjs integrates, byte-identical to what Yjs encodes for the same insert', () => {
    const a = new Trace(123456, 1)
    const b = new Trace(2 ** 40 + 7, 2)
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    for (let i = 0; i < 400; i++) {
      for (const t of [a, b]) {
        const u = t.nextUpdate()
        updates.push(u)
        Y.applyUpdate(doc, u)
      }
    }
    // Nothing pending: every struct found its origins.
    expect(doc.store.pendingStructs).toBeNull()
    expect(doc.getText('text').length).toBe(800)
    expect(Y.encodeStateVector(doc)).toEqual(
      Y.encodeStateVector(
        (() => {
          const d = new Y.Doc()
          Y.applyUpdate(d, Y.mergeUpdates(updates))
          return d
        })(),
      ),
    )
    // Re-encoding one writer's edits from a doc that holds them gives the same bytes.
    const solo = new Trace(99, 3)
    const d1 = new Y.Doc()
    for (let i = 0; i < 50; i++) {
      const u = solo.nextUpdate()
      const before = Y.encodeStateVector(d1)
      Y.applyUpdate(d1, u)
      expect(Y.encodeStateAsUpdate(d1, before)).toEqual(u)
    }
  })

  it('keeps the order of applying irrelevant: shuffled writers converge', () => {
    const traces = [new Trace(11, 4), new Trace(12, 5), new Trace(13, 6)]
    const per = traces.map((t) => Array.from({ length: 200 }, () => t.nextUpdate()))
    const d1 = new Y.Doc()
    const d2 = new Y.Doc()
    for (let i = 0; i < 200; i++) for (const u of per) Y.applyUpdate(d1, u[i]!)
    for (const u of [...per].reverse()) for (const x of u) Y.applyUpdate(d2, x)
    expect(d2.getText('text').toString()).toBe(d1.getText('text').toString())
  })
})

describe('scanUpdate', () => {
  it('reports the last clock of each client, also when a server merges or re-encodes', () => {
    const a = new Trace(5, 7)
    const b = new Trace(900_000_001, 8)
    const doc = new Y.Doc()
    const all: Uint8Array[] = []
    for (let i = 0; i < 30; i++) for (const t of [a, b]) all.push(t.nextUpdate())
    expect(scan(all[0]!)).toEqual([[5, 0]])
    expect(scan(all[3]!)).toEqual([[900_000_001, 1]])
    const merged = Y.mergeUpdates(all)
    expect(new Map(scan(merged))).toEqual(
      new Map([
        [5, 29],
        [900_000_001, 29],
      ]),
    )
    // A server that applies and re-encodes its transaction (the reference server does).
    const seenByObserver: Array<[number, number]> = []
    doc.on('update', (u: Uint8Array) => seenByObserver.push(...scan(u)))
    Y.applyUpdate(doc, merged)
    expect(new Map(seenByObserver)).toEqual(new Map(scan(merged)))
    // Full state after deletes (deleted content is written as ContentDeleted with a length).
    doc.getText('text').delete(0, 10)
    expect(new Map(scan(Y.encodeStateAsUpdate(doc))).get(5)).toBe(29)
  })

  it('falls back to a lower bound on content it does not size', () => {
    const doc = new Y.Doc()
    doc.clientID = 77
    doc.getMap('m').set('k', { a: 1 })
    doc.getMap('m').set('j', 2)
    expect(scan(Y.encodeStateAsUpdate(doc))).toEqual([[77, 1]])
  })
})

describe('frames', () => {
  it('round-trips envelopes with and without the Hocuspocus doc-name prefix', () => {
    const u = new Trace(42, 9).nextUpdate()
    for (const name of [undefined, 'doc-a']) {
      const msg = updateMessage(u, name)
      const env = readEnvelope(msg, name !== undefined)!
      expect(env.syncType).toBe(SYNC_UPDATE)
      expect(msg.subarray(env.payloadStart, env.payloadEnd)).toEqual(u)
      const s1 = readEnvelope(syncStep1Empty(name), name !== undefined)!
      expect(s1.syncType).toBe(SYNC_STEP1)
    }
  })

  it('reads a state vector as Yjs writes it', () => {
    const doc = new Y.Doc()
    const t = new Trace(3_000_000_000, 10)
    for (let i = 0; i < 5; i++) Y.applyUpdate(doc, t.nextUpdate())
    const sv = Y.encodeStateVector(doc)
    expect(readStateVector(sv, 0, sv.length)).toEqual(new Map([[3_000_000_000, 5]]))
  })
})

describe('BulkTrace', () => {
  it('writes multi-insert updates Yjs integrates, in messages below the size limit', () => {
    const t = new BulkTrace(4242, 1, 4096)
    const msgs = t.messages(1_000_000, 256 * 1024)
    const doc = new Y.Doc()
    for (const m of msgs) {
      expect(m.length).toBeLessThanOrEqual(256 * 1024)
      const env = readEnvelope(m, false)!
      const u = m.subarray(env.payloadStart, env.payloadEnd)
      expect(scan(u).at(-1)![0]).toBe(4242)
      Y.applyUpdate(doc, u)
    }
    expect(doc.store.pendingStructs).toBeNull()
    expect(doc.getText('text').length).toBe(t.chars)
    expect(t.chars).toBeGreaterThanOrEqual(1_000_000)
    const full = Y.encodeStateAsUpdate(doc)
    expect(new Map(scan(full)).get(4242)).toBe(t.clock - 1)
  })
})
