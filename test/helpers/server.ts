/**
 * Starts real servers for tests: in-process (`startServer`) or as a child process
 * (`spawnServer`, for restart/kill behaviour). Each registers its own teardown.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { type App, createApp } from '../../src/app.js'
import { type Config, configFor } from '../../src/config/config.js'
import type { Hooks } from '../../src/hooks.js'
import { createLogger } from '../../src/observability/logger.js'
import type { RedisRelayTuning } from '../../src/relay/redis-stream-relay.js'
import type { Relay } from '../../src/relay/relay.js'
import { tempDir } from './temp-dir.js'

export interface TestServer {
  readonly app: App
  readonly port: number
  /** The admin port when `adminPort` was configured (0 picks a free one). */
  readonly adminPort: number | undefined
  readonly url: string
  readonly config: Config
  /** Log lines the server wrote (JSON objects). */
  readonly logs: Record<string, unknown>[]
  close(): Promise<void>
}

/** An in-process server on a free port with its own LevelDB in a temp dir. */
export async function startServer(
  overrides: Partial<Config> = {},
  options: {
    relay?: Relay
    keepOpen?: boolean
    relayTuning?: Partial<RedisRelayTuning>
    hooks?: readonly Hooks[]
  } = {},
): Promise<TestServer> {
  const config = configFor({
    host: '127.0.0.1',
    port: 0,
    dataDir: overrides.dataDir ?? (await tempDir('yws-data-')),
    logLevel: 'info',
    roomIdleMs: 200,
    heartbeatMs: 30_000,
    ...overrides,
  })
  const logs: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      callback()
    },
  })
  const app = createApp(config, {
    logger: createLogger(config.logLevel, config.instanceId, sink),
    ...(options.relay ? { relay: options.relay } : {}),
    ...(options.relayTuning ? { relayTuning: options.relayTuning } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  })
  const { port, adminPort } = await app.start()
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= app.close()
    return closed
  }
  if (!options.keepOpen) onTestFinished(close)
  return { app, port, adminPort, url: `ws://127.0.0.1:${port}`, config, logs, close }
}

export interface SpawnedServer {
  readonly process: ChildProcess
  readonly port: number
  readonly url: string
  readonly httpUrl: string
  readonly logs: string[]
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>
  kill(signal?: NodeJS.Signals): Promise<number | string>
}

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

/**
 * The real entry point as a child process (tsx), configured only by environment. Killed when
 * the current test finishes, unless `keepOpen` (beforeAll scopes: the caller kills it).
 */
export async function spawnServer(
  env: Record<string, string>,
  options: { keepOpen?: boolean } = {},
): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line))
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line)
      const match = /"port":(\d+)/.exec(line)
      if (match && line.includes('listening')) resolve(Number(match[1]))
    })
    void exited.then((code) =>
      reject(new Error(`server exited (${code}) before listening:\n${logs.join('\n')}`)),
    )
  })
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return exited
  }
  if (!options.keepOpen) {
    onTestFinished(async () => {
      await kill('SIGKILL')
    })
  }
  return {
    process: child,
    port,
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    logs,
    exited,
    kill,
  }
}
