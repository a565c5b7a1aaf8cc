/**
 * Property test over the upgrade path: random paths, percent-encodings, query strings and
 * headers, sent as raw bytes (no client library to sanitise them). The server must answer
 * every one with a non-5xx status (or refuse to parse it), never crash, and keep serving
 * real clients afterwards. Seeded, so a failure replays.
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { connectSynced, waitForConvergence } from '../helpers/clients.js'
import { httpRequest } from '../helpers/http.js'
import { metricValue } from '../helpers/prometheus.js'
import { startServer } from '../helpers/server.js'
import { signToken, TEST_SECRET } from '../helpers/tokens.js'

/** Writes `request` as-is and resolves with the status code, or undefined if none came. */
function sendRaw(port: number, request: Buffer): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let received = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within 5 s to ${JSON.stringify(request.toString('latin1').slice(0, 200))}`))
    }, 5000)
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received)
      resolve(match ? Number(match[1]) : undefined)
    }
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      if (received.includes('\r\n')) finish()
    })
    socket.on('end', finish)
    socket.on('error', finish) // a reset after the server refused to parse: no status, not a crash
    socket.write(request)
  })
}

const hex = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''))
// Weighted towards names that pass the parser, so the deeper stages (auth, doc-name rules,
// document load) are exercised too, not only the HTTP parser's 400.
const pathPiece = fc.oneof(
  { arbitrary: fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s)), weight: 6 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => encodeURIComponent(s)), weight: 4 },
  fc.tuple(hex, hex).map(([a, b]) => `%${a}${b}`), // any byte, including control characters and bad UTF-8
  fc.constantFrom(
    '%',
    '%z',
    '%zz',
    '%C3',
    '%C3%28',
    '%ED%A0%80',
    '%00',
    '%2F',
    '%3F',
    '..',
    '.',
    '/',
    '//',
    '?',
    '#',
    '*',
    '~',
    ';',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 8 }),
  fc.constant('x'.repeat(600)),
)
const path = fc.array(pathPiece, { minLength: 1, maxLength: 6 }).map((pieces) => `/${pieces.join('')}`)

const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    'Bearer',
    'Bearer ',
    'Bearer a.b.c',
    '"',
    'token=',
    'token="',
    '=;=;',
    'yauth-',
    'yauth-a@b',
    'a, ,b',
  ),
)
const header = fc.tuple(
  fc.oneof(
    {
      arbitrary: fc.constantFrom(
        'Authorization',
        'Cookie',
        'Sec-WebSocket-Protocol',
        'Origin',
        'X-Forwarded-For',
      ),
      weight: 5,
    },
    {
      arbitrary: fc.constantFrom(
        'Sec-WebSocket-Key',
        'Sec-WebSocket-Version',
        'Sec-WebSocket-Extensions',
        'Upgrade',
        'Connection',
        'Content-Length',
        'Transfer-Encoding',
      ),
      weight: 1,
    },
  ),
  headerValue,
)

describe('upgrade fuzzing', () => {
  it('random paths and headers never crash the server or get a 5xx', async () => {
    const servers = [await startServer({ authSecret: TEST_SECRET }), await startServer()]
    const token = await signToken({ docs: ['*'] })
    const statuses = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.array(header, { maxLength: 3 }),
        fc.boolean(),
        fc.nat(9).map((n) => n > 0),
        fc.nat(1),
        async (target, headers, withToken, validKey, serverIndex) => {
          const server = servers[serverIndex]!
          const query = withToken ? `${target.includes('?') ? '&' : '?'}token=${token}` : ''
          const lines = [
            `GET ${target}${query} HTTP/1.1`,
            'Host: 127.0.0.1',
            'Connection: Upgrade',
            'Upgrade: websocket',
            'Sec-WebSocket-Version: 13',
            ...(validKey ? [`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`] : []),
            // Values go out as raw bytes; CR/LF would only start another request, so strip them.
            ...headers.map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, '')}`),
          ]
          const status = await sendRaw(server.port, Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'))
          const key = String(status ?? 'none')
          statuses.set(key, (statuses.get(key) ?? 0) + 1)
          expect(status === undefined || status < 500, `got ${status} for ${target}`).toBe(true)
        },
      ),
      { seed: 20240611, numRuns: 300 },
    )
    // The property exercised more than one outcome (it is not refusing everything at parse).
    expect(statuses.get('101') ?? 0).toBeGreaterThan(0)
    expect(statuses.get('400') ?? 0).toBeGreaterThan(0)
    expect(statuses.get('401') ?? 0).toBeGreaterThan(0)
    // Some 400s came from the gateway's own doc-name rules, not only from the HTTP parser.
    expect(
      await metricValue(servers[1]!.app.metrics.upgradesRejected, { reason: 'bad-doc-name' }),
    ).toBeGreaterThan(0)
    for (const server of servers) {
      expect(server.logs.filter((line) => line.msg === 'upgrade failed')).toEqual([])
      // Still serving: health, and real providers that sync with each other.
      expect((await httpRequest(server.port, '/healthz')).status).toBe(200)
      const params = server.config.authSecret ? { params: { token } } : {}
      const a = await connectSynced(server.url, 'after-fuzz', params)
      const b = await connectSynced(server.url, 'after-fuzz', params)
      a.text.insert(0, 'alive')
      await waitForConvergence([a.doc, b.doc])
      expect(b.text.toString()).toBe('alive')
    }
  })
})
