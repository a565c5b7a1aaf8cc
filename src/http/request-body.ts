/**
 * Bounded request bodies for admin routes. An oversized body is drained, not destroyed
 * mid-stream: destroying the request would reset the socket before the 4xx could be sent.
 * Only a caller holding the admin token gets this far.
 */
import type { IncomingMessage } from 'node:http'

/** JSON admin bodies (compact, evict, revoke, ...) are small. */
export const MAX_JSON_BODY_BYTES = 64 * 1024

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge: true; bytes: number }

/** The whole body, or `tooLarge` once it passes `limit` bytes (the rest is read and dropped). */
export function readBody(request: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      else chunks.length = 0
    })
    request.once('end', () =>
      resolve(
        size > limit ? { ok: false, tooLarge: true, bytes: size } : { ok: true, body: Buffer.concat(chunks) },
      ),
    )
    request.once('error', reject)
  })
}

export type JsonBody = { ok: true; value: Record<string, unknown> } | { ok: false; error: string }

/**
 * A JSON object body of at most MAX_JSON_BODY_BYTES with no keys but `fields`; an empty body
 * is `{}`. Another key is refused: a misspelt option (`dryrun`) must not silently mean its
 * default (a real compaction or prune instead of a dry run).
 */
export async function readJson(request: IncomingMessage, fields: readonly string[]): Promise<JsonBody> {
  const result = await readBody(request, MAX_JSON_BODY_BYTES)
  if (!result.ok) return { ok: false, error: `body larger than ${MAX_JSON_BODY_BYTES} bytes` }
  const text = result.body.toString('utf8')
  if (text === '') return { ok: true, value: {} }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, error: 'body is not valid JSON' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'body must be a JSON object' }
  }
  const unknown = Object.keys(value).find((key) => !fields.includes(key))
  if (unknown !== undefined) {
    const expected = fields.length > 0 ? `expected ${fields.join(', ')}` : 'expected an empty body'
    return { ok: false, error: `unknown field ${JSON.stringify(unknown)} (${expected})` }
  }
  return { ok: true, value: value as Record<string, unknown> }
}
