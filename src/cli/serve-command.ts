/**
 * `yjs-cluster-server serve` (the default command): one instance, configured by the
 * environment only. The first SIGINT/SIGTERM (the context's abort signal) or an admin drain
 * stops accepting, closes clients with 1012, flushes and resolves 0; a shutdown that
 * outlives SHUTDOWN_TIMEOUT_MS + 1 s resolves 1 so a stuck close still ends the process.
 */
import { parseArgs } from 'node:util'
import { type Config, ConfigError, loadConfig } from '../config/config.js'
import { createLogger } from '../observability/logger.js'
import { type CollabServer, createServer } from '../server.js'
import type { CliCommand, CliContext } from './command.js'
import { ExitCode } from './exit-codes.js'
import { watchParent } from './parent-watch.js'
import { answerHelpOrUsage, formatUsage, usageError } from './usage.js'

export const SERVE_USAGE = formatUsage({
  synopsis: '[serve]',
  about: `Starts one instance. Every setting comes from the environment (see docs/configuration.md):
HOST, PORT, DATA_DIR, REDIS_URL or REDIS_CLUSTER_NODES, INSTANCE_ID, AUTH_SECRET,
ADMIN_TOKEN, LOG_LEVEL, ... An invalid setting stops start-up with one line naming it.

SIGTERM/SIGINT: stop accepting, close clients with 1012, flush to disk, exit 0.`,
  options: [],
  exitCodes: `0 stopped cleanly, 1 configuration error, start-up failure or a shutdown
that missed its deadline, 2 usage error`,
})

/**
 * The environment → configuration mapping of `serve`, in one place: everything `serve`
 * knows about its settings comes out of this function (and so can be swapped for the
 * library's options as a whole). Throws ConfigError naming the variable.
 */
export function serveConfigFromEnv(env: NodeJS.ProcessEnv): Config {
  return loadConfig(env)
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'start one instance, configured by the environment',
  run: runServe,
}

async function runServe(argv: readonly string[], context: CliContext): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { help: { type: 'boolean', short: 'h' } },
    })
    if (values.help) return answerHelpOrUsage({ kind: 'help' }, SERVE_USAGE, context)!
  } catch (error) {
    return usageError((error as Error).message, SERVE_USAGE, context)
  }

  let config: Config
  try {
    config = serveConfigFromEnv(context.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      context.stderr.write(`configuration error: ${error.message}\n`)
      return ExitCode.failure
    }
    throw error
  }

  // `serve` is the library configured from the environment: the same object an app embeds.
  const logger = createLogger(config.logLevel, config.instanceId)
  let server: CollabServer
  // Settled once: by a signal, an admin drain, an uncaught exception or a failed start.
  let settle: (code: number) => void = () => undefined
  const stopped = new Promise<number>((resolve) => {
    settle = resolve
  })
  let shuttingDown = false
  const shutdown = (why: string): void => {
    if (shuttingDown) return
    shuttingDown = true
    logger.info({ why }, 'shutting down')
    // Promise 2 gives 10 s; keep a margin for the process to actually exit.
    setTimeout(() => {
      logger.error('shutdown deadline passed, exiting')
      settle(ExitCode.failure)
    }, config.shutdownTimeoutMs + 1000).unref()
    server.close().then(
      () => settle(ExitCode.ok),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        settle(ExitCode.failure)
      },
    )
  }

  try {
    server = createServer({ ...config, logger, onDrain: () => shutdown('admin drain') })
  } catch (error) {
    context.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`)
    return ExitCode.failure
  }
  const onAbort = () => shutdown(String(context.signal.reason ?? 'signal'))
  context.signal.addEventListener('abort', onAbort, { once: true })
  const onUncaught = (error: Error) => {
    logger.fatal({ err: error }, 'uncaught exception')
    shutdown('uncaught exception')
  }
  process.on('uncaughtException', onUncaught)
  // Under a process manager that dies without passing our signal on (npm killed with
  // SIGKILL, a crashed supervisor), nobody would ever tell us to drain: do it ourselves.
  const stopWatching = watchParent(context.env, () => shutdown('parent process exited'))

  try {
    try {
      await server.listen()
    } catch (error) {
      if (shuttingDown) return await stopped
      context.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`)
      await server.close().catch((closeError: unknown) => {
        logger.error({ err: closeError }, 'closing after a failed start-up failed')
      })
      return ExitCode.failure
    }
    if (context.signal.aborted) onAbort()
    return await stopped
  } finally {
    stopWatching()
    context.signal.removeEventListener('abort', onAbort)
    process.off('uncaughtException', onUncaught)
  }
}
