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
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.cookie',
          'secret',
          '*.secret',
        ],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  )
}
