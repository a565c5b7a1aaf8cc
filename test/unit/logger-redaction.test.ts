import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/observability/logger.js'

describe('logger redaction', () => {
  it('hides tokens, URLs, auth headers and config secrets, even when logged by mistake', () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk))
        callback()
      },
    })
    const logger = createLogger('trace', 'test', sink)
    const secret = 'SECRET-VALUE-123'
    logger.info({ token: secret, url: `/doc?token=${secret}` }, 'top level')
    logger.info(
      {
        req: {
          url: `/doc?token=${secret}`,
          headers: {
            authorization: `Bearer ${secret}`,
            cookie: `token=${secret}`,
            'sec-websocket-protocol': `yauth-${secret}`,
          },
        },
      },
      'request',
    )
    logger.info(
      { config: { authSecret: secret, adminToken: secret, redisUrl: `redis://:${secret}@h` } },
      'config',
    )
    logger.child({ conn: 'c' }).info({ headers: { authorization: secret } }, 'child')
    expect(lines).toHaveLength(4)
    for (const line of lines) expect(line).not.toContain(secret)
    expect(lines.join('')).toContain('[redacted]')
  })
})
