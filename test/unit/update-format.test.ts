/**
 * validateUpdate is exact (bugs brief 3): every real update — per transaction, whole state,
 * diffs against state vectors, Y.mergeUpdates output with skips, GC'd and non-GC'd docs,
 * every content and value type — is accepted, and the same bytes with anything after them,
 * or cut short, are refused with a sentence (not internal JS text).
 */
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeClientMessage, encodeUpdate, validateUpdate } from '../../src/protocol/messages.js'
import { isEmptyUpdate } from '../../src/protocol/update-format.js'

/** Internal JS errors that must never reach an API answer. */
const INTERNAL = /is not a function|Cannot read|of undefined|of null|Maximum call stack/

/** One seeded editing session of three peers touching every struct and content kind. */
function realUpdates(seed: number): Uint8Array[] {
  const gen = prng.create(seed)
  const gc = prng.bool(gen)
  const docs = [0, 1, 2].map((i) => {
    const doc = new Y.Doc({ gc })
    doc.clientID = seed * 3 + i + 1
    return doc
  })
  const out: Uint8Array[] = []
  const perTransaction: Uint8Array[] = []
  for (const doc of docs) doc.on('update', (update: Uint8Array) => perTransaction.push(update))
  const values = (): unknown =>
    prng.oneOf(gen, [
      () => prng.int32(gen, -1e6, 1e6),
      () => prng.real53(gen),
      () => prng.utf16String(gen, 12),
      () => prng.word(gen),
      () => null,
      () => prng.bool(gen),
      () => prng.uint8Array(gen, 5),
      () => ({ nested: { deep: [1, 'two', { three: prng.utf16String(gen, 4) }] }, 'ключ 🔑': true }),
      () => [prng.word(gen), [prng.int32(gen, 0, 9)], {}],
    ])()
  for (let step = 0; step < 60; step++) {
    const doc = prng.oneOf(gen, docs)
    const text = doc.getText('text')
    const map = doc.getMap('map')
    const array = doc.getArray<unknown>('array')
    const xml = doc.getXmlFragment('xml')
    doc.transact(() => {
      switch (prng.int32(gen, 0, 11)) {
        case 0:
        case 1:
          text.insert(prng.int32(gen, 0, text.length), prng.utf16String(gen, 8))
          break
        case 2:
          if (text.length > 0) {
            const at = prng.int32(gen, 0, text.length - 1)
            text.delete(at, prng.int32(gen, 1, text.length - at))
          }
          break
        case 3:
          if (text.length > 0) text.format(0, prng.int32(gen, 1, text.length), { bold: prng.bool(gen) })
          text.insertEmbed(prng.int32(gen, 0, text.length), { image: prng.word(gen) })
          break
        case 4:
          map.set(prng.word(gen, 1, 3), values())
          // undefined and bigint are valid map values (ContentAny tags 127, 122), not array elements.
          map.set(prng.word(gen, 1, 3), undefined)
          map.set(prng.word(gen, 1, 3), BigInt(prng.int32(gen, -1e6, 1e6)))
          break
        case 5:
          map.set(prng.word(gen, 1, 3), new Y.Text(prng.word(gen)))
          map.delete(prng.word(gen, 1, 3))
          break
        case 6:
          array.insert(prng.int32(gen, 0, array.length), [values(), values()])
          break
        case 7:
          if (array.length > 0) array.delete(0, 1)
          array.push([new Y.Map(), new Y.Array()])
          break
        case 8: {
          const element = new Y.XmlElement(prng.word(gen, 1, 6))
          element.setAttribute('class', prng.word(gen))
          element.insert(0, [new Y.XmlText(prng.utf16String(gen, 5))])
          // XmlHook is a valid child at run time; the type of insert() leaves it out.
          const hook = new Y.XmlHook('hook') as unknown as Y.XmlElement
          xml.insert(prng.int32(gen, 0, xml.length), [element, hook])
          break
        }
        case 9:
          if (xml.length > 0) xml.delete(0, 1)
          break
        case 10:
          map.set('sub', new Y.Doc({ guid: `g${prng.int32(gen, 0, 1e6)}` }))
          break
        default: {
          // Sync two peers, so items get origins from other clients.
          const [a, b] = [prng.oneOf(gen, docs), prng.oneOf(gen, docs)]
          Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
        }
      }
    })
    if (step % 20 === 19) {
      out.push(Y.encodeStateAsUpdate(doc), Y.encodeStateAsUpdate(doc, Y.encodeStateVector(docs[0]!)))
    }
  }
  for (const doc of docs) {
    for (const other of docs) Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)))
  }
  const whole = Y.encodeStateAsUpdate(docs[0]!)
  out.push(...perTransaction, whole)
  // mergeUpdates of non-adjacent slices produces Skip structs; diffUpdate trims by a state vector.
  const every = (n: number) => perTransaction.filter((_, i) => i % n === 0)
  out.push(Y.mergeUpdates(every(2)), Y.mergeUpdates(every(3)), Y.mergeUpdates(perTransaction))
  out.push(Y.diffUpdate(whole, Y.encodeStateVectorFromUpdate(perTransaction[0] ?? whole)))
  for (const doc of docs) doc.destroy()
  return out
}

/** A legacy ContentJSON item (content ref 2), which today's Yjs reads but no longer writes. */
function contentJsonUpdate(values: string[]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1) // one client
  encoding.writeVarUint(e, 1) // one struct
  encoding.writeVarUint(e, 7) // client
  encoding.writeVarUint(e, 0) // clock
  encoding.writeUint8(e, 2) // info: ContentJSON, no origins -> parent info follows
  encoding.writeVarUint(e, 1) // parent is a root type
  encoding.writeVarString(e, 'array')
  encoding.writeVarUint(e, values.length)
  for (const value of values) encoding.writeVarString(e, value)
  encoding.writeVarUint(e, 0) // empty delete set
  return encoding.toUint8Array(e)
}

describe('validateUpdate', () => {
  it('accepts every real update of 40 seeded sessions, and refuses each with junk after it', () => {
    let checked = 0
    for (let seed = 1; seed <= 40; seed++) {
      for (const update of realUpdates(seed)) {
        expect(validateUpdate(update)).toBeUndefined()
        expect(validateUpdate(Uint8Array.of(...update, 0))).toMatch(/1 unexpected trailing byte after/)
        expect(validateUpdate(Uint8Array.of(...update, 1, 2, 3))).toMatch(/3 unexpected trailing bytes/)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(1000)
  })

  it('accepts the empty update in both spellings and a legacy JSON item', () => {
    expect(validateUpdate(Uint8Array.of(0, 0))).toBeUndefined()
    expect(validateUpdate(Y.encodeStateAsUpdate(new Y.Doc()))).toBeUndefined()
    expect(validateUpdate(Y.mergeUpdates([]))).toBeUndefined()
    const legacy = contentJsonUpdate(['{"a":1}', 'undefined', '"x"'])
    expect(validateUpdate(legacy)).toBeUndefined()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, legacy)
    expect(doc.getArray('array').toJSON()).toEqual([{ a: 1 }, undefined, 'x'])
    expect(validateUpdate(contentJsonUpdate(['{not json']))).toMatch(/invalid JSON/)
  })

  it('refuses the inputs of the newcomer run with a sentence', () => {
    // base64 "AAAA": an empty update then a 0 byte.
    expect(validateUpdate(Buffer.from('AAAA', 'base64'))).toBe(
      '1 unexpected trailing byte after the delete set',
    )
    expect(validateUpdate(Uint8Array.of(1, 1, 5, 0, 31))).toBe('unknown content type 31 (byte 4)')
    expect(validateUpdate(Uint8Array.of(0))).toBe('the update ends early, in the delete set (byte 1 of 1)')
    expect(validateUpdate(new Uint8Array())).toMatch(/^the update ends early, in the number of clients/)
  })

  it('refuses every cut of a real update that Yjs refuses, and never answers internal text', () => {
    const updates = realUpdates(99).filter((_, i) => i % 5 === 0)
    for (const update of updates) {
      for (let cut = 0; cut < update.length; cut++) {
        const prefix = update.subarray(0, cut)
        const problem = validateUpdate(prefix)
        if (yjsRefuses(prefix)) expect(problem).toBeDefined()
        if (problem !== undefined) expect(problem).not.toMatch(INTERNAL)
      }
    }
  })

  it('accepts only what Yjs decodes, on random bytes and mutated real updates (property, seeded)', () => {
    const reals = realUpdates(7)
    const mutated = fc
      .tuple(fc.constantFrom(...reals), fc.nat(), fc.nat({ max: 255 }), fc.boolean())
      .map(([update, at, byte, insert]) => {
        const i = at % (update.length + 1)
        const bytes = Array.from(update)
        if (insert) bytes.splice(i, 0, byte)
        else bytes[Math.min(i, bytes.length - 1)] = byte
        return Uint8Array.from(bytes)
      })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
        const problem = validateUpdate(bytes)
        if (problem === undefined) {
          expect(yjsRefuses(bytes)).toBe(false)
        } else {
          expect(problem).not.toMatch(INTERNAL)
          expect(problem).toMatch(/^[a-z0-9]/)
        }
      }),
      { numRuns: 10_000, seed: 20261201 },
    )
  })

  it('refuses values nested deeper than Yjs can read, with a sentence', () => {
    const e = encoding.createEncoder()
    // One client, one struct, client 7, clock 0, info 8 (ContentAny, parent follows), root 'map'.
    for (const byte of [1, 1, 7, 0, 8, 1]) encoding.writeUint8(e, byte)
    encoding.writeVarString(e, 'map')
    // ContentAny with one value: 100 000 nested one-element arrays.
    encoding.writeVarUint(e, 1)
    for (let i = 0; i < 100_000; i++) encoding.writeUint8Array(e, Uint8Array.of(117, 1))
    encoding.writeUint8Array(e, Uint8Array.of(126, 0))
    const deep = encoding.toUint8Array(e)
    expect(validateUpdate(deep)).toMatch(/nested deeper than/)
  })
})

describe('the WebSocket path refuses an update with trailing bytes', () => {
  it('a sync update message whose update has junk after it', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hi')
    const update = Y.encodeStateAsUpdate(doc)
    expect(decodeClientMessage(encodeUpdate(update))).toMatchObject({ ok: true })
    expect(decodeClientMessage(encodeUpdate(Uint8Array.of(...update, 0)))).toMatchObject({
      ok: false,
      reason: 'bad-update',
      detail: 'invalid update: 1 unexpected trailing byte after the delete set',
    })
  })
})

function yjsRefuses(update: Uint8Array): boolean {
  try {
    Y.decodeUpdate(update)
    return false
  } catch {
    return true
  }
}

describe('isEmptyUpdate', () => {
  it('is true only for a well-formed update with no struct and no deleted range', () => {
    expect(isEmptyUpdate(Y.encodeStateAsUpdate(new Y.Doc()))).toBe(true)
    expect(isEmptyUpdate(new Uint8Array([1, 0, 7, 0, 0]))).toBe(true) // a client group of 0 structs
    expect(isEmptyUpdate(new Uint8Array([0, 1, 7, 0]))).toBe(true) // a delete-set client with 0 ranges
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'a')
    expect(isEmptyUpdate(Y.encodeStateAsUpdate(doc))).toBe(false)
    doc.getText('t').delete(0, 1)
    const deletion = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc))
    expect(isEmptyUpdate(deletion)).toBe(false) // only a delete set
    expect(isEmptyUpdate(new Uint8Array([0, 0, 0]))).toBe(false) // trailing byte: malformed
    expect(isEmptyUpdate(new Uint8Array([]))).toBe(false)
  })
})
