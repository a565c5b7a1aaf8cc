/**
 * Raw HTTP for tests: upgrade attempts that report the status the server answered (without
 * a WebSocket library in the way) and plain requests with a JSON body.
 */
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import type { Duplex } from 'node:stream'
import { onTestFinished } from 'vitest'

export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
  /** The upgraded socket, when `keepOpen` asked to keep it (destroyed at test end). */
  readonly socket?: Duplex
}

/**
 * Sends a WebSocket upgrade request for `path` and resolves with the status: 101 when the
 * server upgraded (the socket is then closed by us unless `keepOpen`), else the HTTP refusal.
 */
export function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  {
    method = 'GET',
    timeoutMs = 5000,
    keepOpen = false,
  }: { method?: string; timeoutMs?: number; keepOpen?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
      timeout: timeoutMs,
    })
    req.on('upgrade', (response, socket) => {
      if (keepOpen) onTestFinished(() => void socket.destroy())
      else socket.destroy()
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        body: '',
        ...(keepOpen ? { socket } : {}),
      })
    })
    req.on('response', (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      response.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to upgrade of ${path} within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** A plain HTTP request; `body` objects are sent as JSON. */
export async function httpRequest(
  port: number,
  path: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect parsed JSON through assertions
): Promise<RawResponse & { json: () => any }> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  const response = await new Promise<RawResponse>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method,
      headers: {
        ...(payload !== undefined
          ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
          : {}),
        ...headers,
      },
      timeout: 10_000,
    })
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path}`)))
    req.on('error', reject)
    req.end(payload)
  })
  return { ...response, json: () => JSON.parse(response.body) }
}
