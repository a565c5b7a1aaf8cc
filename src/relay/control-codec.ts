/**
 * The control channel's message codec, as pure functions (no I/O). A control message is the
 * payload of a kind `c` entry on `<prefix>:control` (see stream-entry.ts): UTF-8 JSON, one of
 *
 *   {"type":"revoke","doc":<string>}        exactly one of doc / sub
 *   {"type":"revoke","sub":<string>}
 *   {"type":"evict","doc":<string>}
 *   {"type":"delete","doc":<string>,"generation":<safe integer > 0>}
 *
 * Other fields are ignored. Payloads come from other instances and are untrusted:
 * `decodeControl` never throws; anything outside the grammar decodes as undefined.
 */
import type { ControlMessage } from './relay.js'

export function encodeControl(message: ControlMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message))
}

export function decodeControl(data: Uint8Array): ControlMessage | undefined {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(data))
  } catch {
    return undefined // malformed JSON from a peer: the caller counts and logs it
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { type, doc, sub, generation } = value as Record<string, unknown>
  if (type === 'evict' && typeof doc === 'string') return { type, doc }
  if (type === 'delete' && typeof doc === 'string' && isGeneration(generation)) {
    return { type, doc, generation }
  }
  if (
    type === 'revoke' &&
    optionalString(doc) &&
    optionalString(sub) &&
    (doc === undefined) !== (sub === undefined)
  ) {
    return { type, ...(doc !== undefined ? { doc } : {}), ...(sub !== undefined ? { sub } : {}) }
  }
  return undefined
}

function optionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string'
}

function isGeneration(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0
}
