/**
 * The y-websocket wire format (y-protocols framing), as pure functions: untrusted bytes go
 * in through `decodeClientMessage`, which validates the whole message before anything acts
 * on it, and every frame the server sends is built by an `encode*` function here. Nothing
 * else in the codebase builds or parses frames. No I/O, no Y.Doc mutation.
 *
 *   message      = varuint(type) payload
 *   type 0 sync  = varuint(0) varbytes(stateVector)     sync step 1
 *                | varuint(1) varbytes(update)          sync step 2
 *                | varuint(2) varbytes(update)          update
 *   type 1       = varbytes(awarenessUpdate)
 *   type 2 auth  = varuint(reasonType) varstring(reason)  (server -> client only)
 *   type 3       = (empty)                              query awareness
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { updateFormatProblem } from './update-format.js'

export const MessageType = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const
export const SyncType = { step1: 0, step2: 1, update: 2 } as const

export interface AwarenessEntry {
  readonly clientId: number
  readonly clock: number
  /** null: the client removed its state. */
  readonly state: unknown
}

export type ClientMessage =
  | { readonly kind: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'sync-step2'; readonly update: Uint8Array }
  | { readonly kind: 'update'; readonly update: Uint8Array }
  | { readonly kind: 'awareness'; readonly update: Uint8Array; readonly entries: readonly AwarenessEntry[] }
  | { readonly kind: 'query-awareness' }
  /** A message type this server does not act on (e.g. auth from a client): ignored, counted. */
  | { readonly kind: 'ignored'; readonly type: number }

export type DecodeResult =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly reason: DecodeFailure; readonly detail: string }

export type DecodeFailure =
  | 'empty'
  | 'truncated'
  | 'bad-sync-type'
  | 'bad-update'
  | 'bad-awareness'
  | 'trailing-bytes'

const fail = (reason: DecodeFailure, detail: string): DecodeResult => ({ ok: false, reason, detail })

/** Upper bound on awareness entries in one message: stock clients send 1; a server sends all. */
const MAX_AWARENESS_ENTRIES = 10_000

export interface DecodeOptions {
  /**
   * The same bytes already passed `decodeClientMessage` in full elsewhere (a worker
   * thread, for big messages): skip re-parsing the Yjs update, the costly part.
   */
  readonly updateAlreadyValidated?: boolean
}

/**
 * Validates and decodes one client message. Never throws: any malformed input becomes
 * `{ ok: false }`. A Yjs update is fully parsed here (without touching a Y.Doc), so an
 * update that reaches a room is known to decode.
 */
export function decodeClientMessage(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  if (bytes.length === 0) return fail('empty', 'empty message')
  const decoder = decoding.createDecoder(bytes)
  let result: DecodeResult
  try {
    result = decodeBody(decoder, options)
  } catch (error) {
    return fail('truncated', describe(error))
  }
  if (result.ok && decoding.hasContent(decoder)) {
    return fail('trailing-bytes', `${bytes.length - decoder.pos} unexpected trailing bytes`)
  }
  return result
}

function decodeBody(decoder: decoding.Decoder, options: DecodeOptions): DecodeResult {
  const type = decoding.readVarUint(decoder)
  switch (type) {
    case MessageType.sync:
      return decodeSync(decoder, options)
    case MessageType.awareness:
      return decodeAwareness(decoding.readVarUint8Array(decoder))
    case MessageType.queryAwareness:
      return { ok: true, message: { kind: 'query-awareness' } }
    default: {
      // Unknown types (and auth, which only servers send) are skipped whole, per y-websocket.
      decoder.pos = decoder.arr.length
      return { ok: true, message: { kind: 'ignored', type } }
    }
  }
}

function decodeSync(decoder: decoding.Decoder, options: DecodeOptions): DecodeResult {
  const syncType = decoding.readVarUint(decoder)
  const payload = decoding.readVarUint8Array(decoder)
  switch (syncType) {
    case SyncType.step1: {
      const problem = validateStateVector(payload)
      if (problem) return fail('bad-update', `invalid state vector: ${problem}`)
      return { ok: true, message: { kind: 'sync-step1', stateVector: payload } }
    }
    case SyncType.step2:
    case SyncType.update: {
      const problem = options.updateAlreadyValidated ? undefined : validateUpdate(payload)
      if (problem) return fail('bad-update', `invalid update: ${problem}`)
      return {
        ok: true,
        message: { kind: syncType === SyncType.step2 ? 'sync-step2' : 'update', update: payload },
      }
    }
    default:
      return fail('bad-sync-type', `unknown sync message type ${syncType}`)
  }
}

/**
 * Returns why `update` is not exactly one Yjs (v1) update, or undefined when it is. Exact:
 * trailing bytes are refused (`Y.decodeUpdate` ignores them), see update-format.ts.
 */
export function validateUpdate(update: Uint8Array): string | undefined {
  return updateFormatProblem(update)
}

function validateStateVector(stateVector: Uint8Array): string | undefined {
  try {
    const decoder = decoding.createDecoder(stateVector)
    const count = decoding.readVarUint(decoder)
    for (let i = 0; i < count; i++) {
      decoding.readVarUint(decoder)
      decoding.readVarUint(decoder)
    }
    return decoding.hasContent(decoder) ? 'trailing bytes' : undefined
  } catch (error) {
    return describe(error)
  }
}

/** Parses an awareness update completely (including each JSON state) before it is applied. */
export function decodeAwareness(update: Uint8Array): DecodeResult {
  const entries: AwarenessEntry[] = []
  try {
    const decoder = decoding.createDecoder(update)
    const count = decoding.readVarUint(decoder)
    if (count > MAX_AWARENESS_ENTRIES) return fail('bad-awareness', `too many awareness entries (${count})`)
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      const json = decoding.readVarString(decoder)
      if (clientId > 0xffffffff) return fail('bad-awareness', 'client id out of range')
      entries.push({ clientId, clock, state: JSON.parse(json) })
    }
    if (decoding.hasContent(decoder)) return fail('trailing-bytes', 'trailing bytes in awareness update')
  } catch (error) {
    return fail('bad-awareness', describe(error))
  }
  return { ok: true, message: { kind: 'awareness', update, entries } }
}

export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  return encodeSync(SyncType.step1, stateVector)
}

export function encodeSyncStep2(update: Uint8Array): Uint8Array {
  return encodeSync(SyncType.step2, update)
}

export function encodeUpdate(update: Uint8Array): Uint8Array {
  return encodeSync(SyncType.update, update)
}

/**
 * Built at its exact size in one allocation: this runs once per fan-out, and lib0's encoder
 * (a 100-byte buffer, then a copy into the result) doubled its garbage.
 */
function encodeSync(syncType: number, payload: Uint8Array): Uint8Array {
  const length = payload.byteLength
  let lengthBytes = 1
  for (let rest = length; rest > 0x7f; rest = Math.floor(rest / 128)) lengthBytes += 1
  const message = new Uint8Array(2 + lengthBytes + length)
  // Both type numbers are below 128, so each is a one-byte varuint.
  message[0] = MessageType.sync
  message[1] = syncType
  let position = 2
  let rest = length
  while (rest > 0x7f) {
    message[position++] = 0x80 | (rest & 0x7f)
    rest = Math.floor(rest / 128)
  }
  message[position++] = rest
  message.set(payload, position)
  return message
}

export function encodeAwareness(awarenessUpdate: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.awareness)
  encoding.writeVarUint8Array(encoder, awarenessUpdate)
  return encoding.toUint8Array(encoder)
}

/**
 * Encodes awareness entries as an awareness update (the body of a type-1 message), in the
 * y-protocols layout: varuint(count) then per entry varuint(clientId) varuint(clock)
 * varstring(JSON state). `state: null` marks a removal.
 */
export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, JSON.stringify(entry.state))
  }
  return encoding.toUint8Array(encoder)
}

export function encodeQueryAwareness(): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.queryAwareness)
  return encoding.toUint8Array(encoder)
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
