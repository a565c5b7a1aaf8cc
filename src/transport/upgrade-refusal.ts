/**
 * Answers to an HTTP upgrade that never becomes a WebSocket: the pre-check of the handshake
 * (refused before a token check or a document load is spent on it) and the plain HTTP
 * error response.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

/** Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455 §4.1; the same test as ws). */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/

/** Why this is not a WebSocket handshake ws would accept, or undefined when it is one. */
export function badHandshake(request: IncomingMessage): string | undefined {
  if (request.method !== 'GET') return 'WebSocket handshakes use GET'
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return 'invalid Upgrade header'
  const key = request.headers['sec-websocket-key']
  if (key === undefined || !WEBSOCKET_KEY.test(key)) return 'missing or invalid Sec-WebSocket-Key'
  const version = request.headers['sec-websocket-version']
  if (version !== '13' && version !== '8') return 'missing or invalid Sec-WebSocket-Version'
  return undefined
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuse(
  socket: Duplex,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ]
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`)
}
