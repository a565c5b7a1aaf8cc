/**
 * One request to a running instance's admin endpoint for the backup subcommands, with the
 * failures an operator can act on said plainly (unreachable, token refused, no endpoint).
 */

import { AdminRequestError } from '../errors.js'
import type { AdminSource } from './compact-args.js'

/** The instance could not be used: unreachable, refused the token, or answered an error. */
export { AdminRequestError }

/**
 * Sends the request; resolves with a 2xx response (its body unread).
 * @throws AdminRequestError with the instance's `error` text for any other answer
 */
export async function adminFetch(
  source: Pick<AdminSource, 'url' | 'adminToken'>,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: ReadableStream<Uint8Array>; contentType?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  let response: Response
  try {
    response = await fetch(`${source.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${source.adminToken}`,
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
      },
      ...(options.body ? { body: options.body, duplex: 'half' } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    } as RequestInit)
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    throw new AdminRequestError(
      `cannot reach ${source.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
    )
  }
  if (response.ok) return response
  const text = await response.text()
  let body: Record<string, unknown> | undefined
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    body = undefined // not JSON (a proxy's error page): the status line says enough
  }
  if (response.status === 401) throw new AdminRequestError(`${source.url} refused the admin token`, body)
  const why = typeof body?.error === 'string' ? body.error : `${response.status} ${response.statusText}`
  throw new AdminRequestError(`${method} ${path} answered ${response.status}: ${why}`, body)
}
