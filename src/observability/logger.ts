/**
 * Structured JSON logs (pino) on stdout. Every line carries the instance id; child loggers
 * add doc and connection ids. Tokens and secrets are redacted wherever they might appear.
 */
import { type DestinationStream, type Logger, pino } from 'pino'
import type { LogLevel } from '../config/config.js'

export type { Logger }

export function createLogger(level: LogLevel, instanceId: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { instance: instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        // Defence in depth: the code never logs a request URL, header or config secret,
        // but if someone adds `{ req }` or `{ config }` to a log call, these still hide.
        // (`*.x` matches one level down only, hence the explicit nested paths.)
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'cookie',
          '*.cookie',
          'headers.cookie',
          'headers.authorization',
          'headers["sec-websocket-protocol"]',
          '*.headers.cookie',
          '*.headers.authorization',
          '*.headers["sec-websocket-protocol"]',
          'url',
          '*.url',
          'secret',
          '*.secret',
          'authSecret',
          '*.authSecret',
          'adminToken',
          '*.adminToken',
          'webhookSecret',
          '*.webhookSecret',
          'redisUrl',
          '*.redisUrl',
        ],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
}
