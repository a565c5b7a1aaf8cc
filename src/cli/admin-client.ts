/**
 * The operator commands' way to a running instance: one admin request with the bearer
 * token, a timeout, and errors worded for a terminal (unreachable, token refused, the
 * server's own `{ error }` text).
 */

/** Where the admin API is and how to authenticate. */
export interface AdminEndpoint {
  /** e.g. `http://127.0.0.1:1234` (PORT, or ADMIN_PORT when set); no trailing slash. */
  readonly url: string
  readonly adminToken: string
}

/** A failed admin call, with the HTTP status when there was an answer. */
export class AdminRequestError extends Error {
  override name = 'AdminRequestError'
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message)
  }
}

const REQUEST_TIMEOUT_MS = 60_000

/** Sends one admin request; resolves with the parsed JSON answer. Throws AdminRequestError. */
export async function adminRequest(
  endpoint: AdminEndpoint,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(`${endpoint.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${endpoint.adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    throw new AdminRequestError(
      `cannot reach ${endpoint.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      undefined,
    )
  }
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = text === '' ? {} : JSON.parse(text)
  } catch {
    parsed = { error: text.slice(0, 200) }
  }
  if (response.ok) return parsed
  if (response.status === 401) throw new AdminRequestError(`${endpoint.url} refused the admin token`, 401)
  const why = (parsed as { error?: unknown }).error ?? response.statusText
  throw new AdminRequestError(
    `${method} ${path} answered ${response.status}: ${String(why)}`,
    response.status,
  )
}

/** Parses and checks `--url`; returns the URL without a trailing slash, or a problem. */
export function adminUrl(raw: string): { url: string } | { problem: string } {
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    return { problem: `--url is not a URL: ${raw}` }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { problem: `--url must be http:// or https://, got ${parsed.protocol}` }
  }
  return { url: parsed.href.replace(/\/+$/, '') }
}
