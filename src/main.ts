/**
 * Process entry: configuration errors become one line and exit 1; SIGTERM/SIGINT (and an
 * admin drain, which is the same thing: SIGTERM is the drain signal for rolling deploys) close gracefully — stop accepting, flush, close clients with 1012 — and exit
 * 0, with a hard deadline so a stuck shutdown still ends.
 */
import { createApp } from './app.js'
import { ConfigError, loadConfig } from './config/config.js'

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }

  let shuttingDown = false
  const shutdown = (why: string) => {
    if (shuttingDown) return
    shuttingDown = true
    app.logger.info({ why }, 'shutting down')
    // Promise 2 gives 10 s; keep a margin for the process to actually exit.
    setTimeout(() => {
      app.logger.error('shutdown deadline passed, exiting')
      process.exit(1)
    }, config.shutdownTimeoutMs + 1000).unref()
    app.close('serviceRestart').then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  }

  let app: ReturnType<typeof createApp>
  try {
    app = createApp(config, { onDrain: () => shutdown('admin drain') })
  } catch (error) {
    process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.on('uncaughtException', (error) => {
    app.logger.fatal({ err: error }, 'uncaught exception')
    shutdown('uncaught exception')
  })

  try {
    await app.start()
  } catch (error) {
    process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`)
    await app.close().catch(() => undefined)
    process.exit(1)
  }
}

void main()
