/**
 * The Relay contract: one suite every relay implementation runs (RedisStreamRelay against a
 * real Redis, MemoryRelay in-process). Framework-agnostic like docStoreContract: the caller
 * passes its runner's `describe`, `it` and `expect`:
 *
 *   import { describe, expect, it } from 'vitest'
 *   import { relayContract } from 'yjs-cluster-server/testing'
 *   relayContract('NatsRelay', async () => {
 *     const subject = freshSubject()
 *     return { create: async (instanceId) => new NatsRelay(subject, instanceId) }
 *   }, { describe, it, expect })
 *
 * A place is one shared state (a key prefix, a hub); every relay created on it is another
 * instance of one cluster. `partition` (optional: the gap test is skipped without it) cuts
 * one instance off, as a network or Redis outage would, until the returned heal() runs.
 * The rooms here are small Y.Doc-backed sinks that behave like the server's Room: they
 * publish their local changes, never what the relay handed them.
 */
import * as Y from 'yjs'
import type { ControlMessage, Relay, RelaySink, RoomRelay } from '../relay/relay.js'
import type { ContractAssertion } from './doc-store-contract.js'

export interface RelayPlace {
  /**
   * A relay of a new instance on this place's shared state, not started. `instanceId` is a
   * label: two live relays may be given the same one and must still tell each other apart.
   */
  create(instanceId: string): Promise<Relay>
  /** Cuts `relay` off the shared state; resolves to heal(). */
  partition?(relay: Relay): Promise<() => Promise<void>>
  /** Releases what the place holds (after every relay created on it was closed). */
  close?(): Promise<void>
}

export type RelayFactory = () => RelayPlace | Promise<RelayPlace>

export interface RelayContractRunner {
  describe(name: string, body: () => void): void
  it(name: string, body: () => Promise<void>): void
  expect(actual: unknown): Pick<ContractAssertion, 'toBe' | 'toEqual' | 'toBeUndefined'>
}

const REMOTE = Symbol('relay')

/** A room as the relay sees it: a Y.Doc that publishes its own changes once joined. */
class ContractRoom implements RelaySink {
  readonly doc = new Y.Doc()
  readonly remoteUpdates: Uint8Array[] = []
  readonly remoteAwareness: Uint8Array[] = []
  /** What encodeLocalAwareness answers (a peer's join asks for it). */
  localAwareness: Uint8Array | undefined
  membership: RoomRelay | undefined

  constructor(readonly docName: string) {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.membership?.publishUpdate(update)
    })
  }

  get text(): string {
    return this.doc.getText('t').toString()
  }

  type(value: string): void {
    this.doc.getText('t').insert(this.doc.getText('t').length, value)
  }

  applyRemoteUpdate(update: Uint8Array): void {
    this.remoteUpdates.push(update)
    Y.applyUpdate(this.doc, update, REMOTE)
  }

  applyRemoteAwareness(update: Uint8Array): void {
    this.remoteAwareness.push(update)
  }

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  encodeLocalAwareness(): Uint8Array | undefined {
    return this.localAwareness
  }
}

/** Awaits a condition (polling; the relays deliver asynchronously). */
async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`relay contract: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A valid awareness update (client `clientId`, clock 1, state {name}). */
function awarenessUpdate(clientId: number, name: string): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ user: { name } }))
  const bytes: number[] = [1]
  const varUint = (n: number) => {
    while (n > 0x7f) {
      bytes.push((n & 0x7f) | 0x80)
      n >>>= 7
    }
    bytes.push(n)
  }
  varUint(clientId)
  varUint(1)
  varUint(json.length)
  bytes.push(...json)
  return new Uint8Array(bytes)
}

function clientsOf(update: Uint8Array): number[] {
  return Y.decodeUpdate(update).structs.map((struct) => struct.id.client)
}

export function relayContract(name: string, factory: RelayFactory, t: RelayContractRunner): void {
  const { describe, it, expect } = t
  let instance = 0

  /** Runs `body` with a place and a helper that starts relays on it; closes everything after. */
  async function withPlace(
    body: (start: (instanceId?: string) => Promise<Relay>, place: RelayPlace) => Promise<void>,
  ) {
    const place = await factory()
    const relays: Relay[] = []
    const start = async (instanceId = `contract-${++instance}`) => {
      const relay = await place.create(instanceId)
      relays.push(relay)
      await relay.start()
      await until(() => relay.connected, 'the relay to connect')
      return relay
    }
    try {
      await body(start, place)
    } finally {
      for (const relay of relays) await relay.close()
      await place.close?.()
    }
  }

  async function join(relay: Relay, docName: string, setup?: (room: ContractRoom) => void) {
    const room = new ContractRoom(docName)
    setup?.(room)
    room.membership = await relay.join(room)
    return room
  }

  describe(`Relay contract: ${name}`, () => {
    it('relays updates between instances joined to a doc, both ways', async () => {
      await withPlace(async (start) => {
        const [a, b] = [await start(), await start()]
        const onA = await join(a, 'doc')
        const onB = await join(b, 'doc')
        onA.type('from a ')
        await until(() => onB.text === 'from a ', 'b to receive a’s edit')
        onB.type('from b')
        await until(() => onA.text === 'from a from b', 'a to receive b’s edit')
        expect(onB.text).toBe('from a from b')
      })
    })

    it('never echoes an update back to the instance that published it', async () => {
      await withPlace(async (start) => {
        const [a, b] = [await start(), await start()]
        const onA = await join(a, 'doc')
        const onB = await join(b, 'doc')
        onA.type('mine')
        await until(() => onB.text === 'mine', 'b to receive')
        // Published after a's update: once it arrived at a, an echo would have too.
        onB.type('!')
        await until(() => onA.text === 'mine!', 'a to receive b’s edit')
        const fromA = onA.remoteUpdates.flatMap(clientsOf).filter((client) => client === onA.doc.clientID)
        expect(fromA).toEqual([])
      })
    })

    it('a joiner catches up on join, and what only it held reaches the others', async () => {
      await withPlace(async (start) => {
        const [a, b] = [await start(), await start()]
        const onA = await join(a, 'doc')
        onA.type('early ')
        await until(async () => (await a.peekDoc('doc')).length > 0, 'the edit to reach the shared state')
        const onB = await join(b, 'doc', (room) => room.type('offline'))
        expect(onB.text.includes('early ')).toBe(true)
        await until(() => onA.text === onB.text, 'a to receive what b held before joining')
      })
    })

    it('relays awareness, and a joiner hears the awareness of rooms already there', async () => {
      await withPlace(async (start) => {
        const [a, b, c] = [await start(), await start(), await start()]
        const onA = await join(a, 'doc')
        const onB = await join(b, 'doc')
        const cursor = awarenessUpdate(7, 'ada')
        onA.membership!.publishAwareness(cursor)
        await until(() => onB.remoteAwareness.length > 0, 'b to receive a’s awareness')
        expect(onB.remoteAwareness[0]).toEqual(cursor)
        onB.localAwareness = awarenessUpdate(8, 'bob')
        const onC = await join(c, 'doc')
        await until(
          () => onC.remoteAwareness.some((update) => Buffer.from(update).equals(onB.localAwareness!)),
          'c to hear b’s clients on join',
        )
      })
    })

    it('broadcasts control messages to every other instance, not back to the sender', async () => {
      await withPlace(async (start) => {
        const [a, b, c] = [await start(), await start(), await start()]
        const heard = new Map<Relay, ControlMessage[]>([
          [a, []],
          [b, []],
          [c, []],
        ])
        for (const [relay, messages] of heard) relay.onControl((message) => messages.push(message))
        a.broadcastControl({ type: 'revoke', sub: 'u1' })
        a.broadcastControl({ type: 'evict', doc: 'd' })
        await until(() => heard.get(b)!.length === 2 && heard.get(c)!.length === 2, 'b and c to hear both')
        expect(heard.get(b)).toEqual([
          { type: 'revoke', sub: 'u1' },
          { type: 'evict', doc: 'd' },
        ])
        // c answers after a's messages: once a heard c's, it would have heard its own.
        c.broadcastControl({ type: 'evict', doc: 'e' })
        await until(() => heard.get(a)!.length > 0, 'a to hear c')
        expect(heard.get(a)).toEqual([{ type: 'evict', doc: 'e' }])
      })
    })

    it('peekDoc reads the shared state without joining; deleteDoc empties it under a new generation', async () => {
      await withPlace(async (start) => {
        const [a, b] = [await start(), await start()]
        expect(await b.peekDoc('doc')).toEqual([])
        expect(await b.docGeneration('doc')).toBe(0)
        const onA = await join(a, 'doc')
        onA.type('kept')
        await until(async () => (await b.peekDoc('doc')).length > 0, 'the shared state to hold the edit')
        const peeked = new Y.Doc()
        for (const update of await b.peekDoc('doc')) Y.applyUpdate(peeked, update)
        expect(peeked.getText('t').toString()).toBe('kept')
        const first = await b.deleteDoc('doc')
        expect(first > 0).toBe(true)
        expect(await a.docGeneration('doc')).toBe(first)
        expect(await a.peekDoc('doc')).toEqual([])
        expect((await b.deleteDoc('doc')) > first).toBe(true)
      })
    })

    it('clearDoc removes only this instance’s updates from the shared state', async () => {
      await withPlace(async (start) => {
        const [a, b] = [await start(), await start()]
        const onA = await join(a, 'doc')
        const onB = await join(b, 'doc')
        onA.type('a')
        await until(() => onB.text === 'a', 'b to receive')
        onB.type('b')
        await until(() => onA.text === 'ab', 'a to receive')
        await a.clearDoc('doc')
        const left = (await b.peekDoc('doc')).flatMap(clientsOf)
        expect(left.includes(onA.doc.clientID)).toBe(false)
        expect(left.includes(onB.doc.clientID)).toBe(true)
      })
    })

    it('instances sharing an instance id still relay updates, awareness and control; clearDoc stays per instance', async () => {
      await withPlace(async (start) => {
        // The id is a label (INSTANCE_ID): two live instances may share it.
        const shared = `contract-shared-${++instance}`
        const [a, b] = [await start(shared), await start(shared)]
        const heard: ControlMessage[] = []
        b.onControl((message) => heard.push(message))
        const onA = await join(a, 'doc')
        onA.localAwareness = awarenessUpdate(9, 'cy')
        const onB = await join(b, 'doc')
        onA.type('a')
        await until(() => onB.text === 'a', 'b to receive a’s edit')
        onB.type('b')
        await until(() => onA.text === 'ab', 'a to receive b’s edit')
        await until(
          () => onB.remoteAwareness.some((update) => Buffer.from(update).equals(onA.localAwareness!)),
          'b to hear a’s clients on join',
        )
        a.broadcastControl({ type: 'evict', doc: 'd' })
        await until(() => heard.length === 1, 'b to hear a’s control message')
        await a.clearDoc('doc')
        const left = (await b.peekDoc('doc')).flatMap(clientsOf)
        expect(left.includes(onA.doc.clientID)).toBe(false)
        expect(left.includes(onB.doc.clientID)).toBe(true)
      })
    })

    it('an instance cut off resyncs when it is back: both sides converge, nothing lost', async () => {
      await withPlace(async (start, place) => {
        if (!place.partition) return
        const [a, b] = [await start(), await start()]
        const onA = await join(a, 'doc')
        const onB = await join(b, 'doc')
        onA.type('before ')
        await until(() => onB.text === 'before ', 'b to receive')
        const heal = await place.partition(b)
        await until(() => !b.connected, 'b to notice the outage')
        onA.type('a-while-apart ')
        onB.type('b-while-apart ')
        await heal()
        await until(
          () =>
            onA.text === onB.text && onA.text.includes('a-while-apart') && onA.text.includes('b-while-apart'),
          'both sides to converge after the outage',
        )
      })
    })

    it('a resync that finds the doc deleted meanwhile reports it instead of bringing it back', async () => {
      await withPlace(async (start, place) => {
        if (!place.partition) return
        const [a, b] = [await start(), await start()]
        const deleted: [string, number][] = []
        b.onDocDeleted((docName, generation) => deleted.push([docName, generation]))
        await join(a, 'doc', (room) => room.type('x'))
        const onB = await join(b, 'doc')
        await until(() => onB.text === 'x', 'b to catch up')
        const heal = await place.partition(b)
        await until(() => !b.connected, 'b to notice the outage')
        const generation = await a.deleteDoc('doc')
        onB.type('late')
        await heal()
        await until(() => deleted.length > 0, 'b to report the delete')
        expect(deleted[0]).toEqual(['doc', generation])
      })
    })
  })
}
