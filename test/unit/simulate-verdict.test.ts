/**
 * The simulator's editing model, tracking and verdict without any server: editors exchange
 * their updates directly (in shuffled order), so whatever the verdict says is about the
 * bookkeeping alone.
 */
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { renderDoc, wordsOf } from '../../src/testing/sim-content.js'
import { DeliveryTracker, LatencySamples } from '../../src/testing/sim-latency.js'
import { resolveOptions, SimulationOptionsError } from '../../src/testing/sim-options.js'
import { TYPING_ORIGIN, Typist } from '../../src/testing/sim-typing.js'
import { type JudgedEditor, judgeDoc } from '../../src/testing/sim-verdict.js'

interface Peer extends JudgedEditor {
  readonly outbox: Uint8Array[]
}

function peers(count: number, seed: number): Peer[] {
  return Array.from({ length: count }, (_, i) => {
    const doc = new Y.Doc()
    const outbox: Uint8Array[] = []
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === TYPING_ORIGIN) outbox.push(update)
    })
    return { id: `d#${i}`, doc, typist: new Typist(prng.create(seed + i), `r.0.${i}.`), outbox }
  })
}

/** Rounds of concurrent edits: everyone edits, then all updates are delivered shuffled. */
function play(all: Peer[], rounds: number, random: prng.PRNG, drop?: (from: number, to: number) => boolean) {
  for (let round = 0; round < rounds; round++) {
    for (const peer of all) for (let k = 0; k < 3; k++) peer.typist.edit(peer.doc)
    const deliveries: [number, number, Uint8Array][] = []
    for (const [from, peer] of all.entries()) {
      for (const update of peer.outbox.splice(0)) {
        for (let to = 0; to < all.length; to++) if (to !== from) deliveries.push([from, to, update])
      }
    }
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = prng.uint32(random, 0, i)
      ;[deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!]
    }
    for (const [from, to, update] of deliveries) {
      if (!drop?.(from, to)) Y.applyUpdate(all[to]!.doc, update, 'remote')
    }
  }
}

describe('simulated typing and its verdict', () => {
  it('concurrent rich-text edits converge and every tracked word is accounted for', () => {
    const all = peers(3, 7)
    play(all, 40, prng.create(1))
    const verdict = judgeDoc('d', all)
    expect(verdict.converged).toBe(true)
    expect(verdict.lostCount).toBe(0)
    const counts = all.map((p) => p.typist.counts)
    // Every kind of edit happened, and words were both kept and deleted.
    for (const kind of ['insert', 'paragraph', 'delete', 'format'] as const) {
      expect(counts.reduce((sum, c) => sum + c[kind], 0)).toBeGreaterThan(0)
    }
    const live = all.reduce((sum, p) => sum + p.typist.live.size, 0)
    expect(wordsOf(all[0]!.doc).size).toBe(live)
    expect(renderDoc(all[0]!.doc)).toMatch(/<paragraph>.*<(strong|em)>/)
  })

  it('the same seed gives the same document', () => {
    const [a, b] = [peers(2, 99), peers(2, 99)]
    play(a, 10, prng.create(5))
    play(b, 10, prng.create(5))
    expect(wordsOf(a[0]!.doc)).toEqual(wordsOf(b[0]!.doc))
  })

  it('a dropped update shows as divergence and lost words on the editor that missed it', () => {
    const all = peers(3, 11)
    let dropped = 0
    play(all, 10, prng.create(2), (from, to) => {
      // Drop exactly one update from #0 to #2.
      if (from === 0 && to === 2 && dropped === 0) {
        dropped += 1
        return true
      }
      return false
    })
    const verdict = judgeDoc('d', all)
    expect(verdict.converged).toBe(false)
    expect(verdict.lostCount).toBeGreaterThan(0)
    expect(verdict.lost[0]!.author).toBe('d#0')
    expect(verdict.lost.every((lost) => lost.missingOn.join() === 'd#2')).toBe(true)
    expect(verdict.firstDiff).toMatch(/d#2 differs from d#0\n {2}state vector: client \d+: \d+ vs \d+/)
  })
})

describe('delivery latency bookkeeping', () => {
  it('times each edit once per receiver, when the receiver holds it', () => {
    let now = 0
    const samples = new LatencySamples()
    const tracker = new DeliveryTracker(samples, () => now)
    const [writer, reader] = [new Y.Doc(), new Y.Doc()]
    tracker.addEditor(writer.clientID)
    tracker.addEditor(reader.clientID)
    const updates: Uint8Array[] = []
    writer.on('update', (update: Uint8Array) => updates.push(update))
    for (let i = 0; i < 3; i++) {
      writer.getText('t').insert(0, 'x')
      tracker.recordEdit(writer.clientID, Y.getState(writer.store, writer.clientID))
      now += 10
    }
    // Delivered out of order: the third alone is pending (nothing timed), then the rest.
    Y.applyUpdate(reader, updates[2]!)
    tracker.observe(reader.clientID, reader)
    expect(samples.summary().count).toBe(0)
    Y.applyUpdate(reader, updates[0]!)
    Y.applyUpdate(reader, updates[1]!)
    tracker.observe(reader.clientID, reader)
    expect(samples.summary()).toEqual({ count: 3, p50: 20, p99: 30, max: 30 })
    tracker.observe(reader.clientID, reader)
    expect(samples.summary().count).toBe(3)
  })

  it('keeps a bounded sample with exact count and max', () => {
    const random = prng.create(3)
    const samples = new LatencySamples(100, () => prng.real53(random))
    for (let i = 1; i <= 10_000; i++) samples.add(i % 100)
    samples.add(5000)
    const summary = samples.summary()
    expect(summary.count).toBe(10_001)
    expect(summary.max).toBe(5000)
    expect(summary.p50).toBeGreaterThan(20)
    expect(summary.p50).toBeLessThan(80)
  })
})

describe('simulation options', () => {
  it.each([
    [{ urls: [] }, /urls must list/],
    [{ urls: ['http://x'] }, /must start with ws:\/\//],
    [{ urls: ['ws://x'], editors: 0 }, /editors must be an integer from 1 to 1000 \(got 0\)/],
    [{ urls: ['ws://x'], rate: 1000 }, /rate must be a number from 0.01 to 100/],
    [{ urls: ['ws://x'], docs: 10_000, editors: 1000 }, /docs × editors must be at most 20000/],
    [{ urls: ['ws://x'], token: 't', secret: 's' }, /token and secret are exclusive/],
  ])('%j is refused', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(SimulationOptionsError)
    expect(() => resolveOptions(options)).toThrow(message)
  })
})
