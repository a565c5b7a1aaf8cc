/**
 * Rehearses a rolling deploy on a local cluster (docs/operations.md, "Rehearse a deploy"):
 * starts N instances sharing Redis, runs simulated editors against all of them, and while
 * they type drains (SIGTERM) and restarts each instance in turn on the same port and data
 * directory — then prints the simulation's verdict.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx scripts/rehearse-deploy.ts [--instances 2] \
 *     [--duration 30] [--docs 10] [--editors 4] [--rate 2] [--seed N] [--chaos N] [--json]
 *
 * Every option but --instances is a `simulate` option (its --url is filled in here). Exit 0
 * only if every instance drained with exit 0, came back, and the verdict is ok.
 * Uses its own REDIS_PREFIX and temp data dirs, and removes both at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { parseSimulateArgs, SIMULATE_USAGE } from '../src/cli/simulate-args.js'
import { formatVerdict } from '../src/testing/format-verdict.js'
import { simulateEditors } from '../src/testing/simulate.js'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const READY_TIMEOUT_MS = 30_000
const DRAIN_TIMEOUT_MS = 15_000

interface Instance {
  readonly index: number
  readonly port: number
  readonly dataDir: string
  child: ChildProcess
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function log(line: string): void {
  process.stderr.write(`rehearse: ${line}\n`)
}

function launch(instance: Omit<Instance, 'child'>, redisUrl: string, prefix: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(instance.port),
      DATA_DIR: instance.dataDir,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      INSTANCE_ID: `rehearse-${instance.index}`,
      LOG_LEVEL: 'warn',
    },
    // Server logs would bury the progress lines; errors still reach our stderr.
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}

async function waitReady(port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.status,
      () => 0, // not listening yet: that is what we are waiting for
    )
    if (status === 200) return
    if (Date.now() > deadline)
      throw new Error(`instance on port ${port} not ready within ${READY_TIMEOUT_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** SIGTERM, wait for the exit code (the drain must end with 0), start again, wait until ready. */
async function redeploy(instance: Instance, redisUrl: string, prefix: string): Promise<number | string> {
  const child = instance.child
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  const started = Date.now()
  child.kill('SIGTERM')
  const timeout = setTimeout(() => child.kill('SIGKILL'), DRAIN_TIMEOUT_MS)
  const code = await exited
  clearTimeout(timeout)
  log(`instance ${instance.index} drained: exit ${code} after ${Date.now() - started} ms; starting it again`)
  instance.child = launch(instance, redisUrl, prefix)
  await waitReady(instance.port)
  log(`instance ${instance.index} back after ${Date.now() - started} ms`)
  return code
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--instances')
  const count = at >= 0 ? Number(argv[at + 1]) : 2
  if (at >= 0) argv.splice(at, 2)
  if (!Number.isInteger(count) || count < 1 || count > 8) {
    process.stderr.write('error: --instances must be an integer from 1 to 8\n')
    return 2
  }
  const redisUrl = process.env.REDIS_URL
  if (!redisUrl) {
    process.stderr.write('error: REDIS_URL must be set (the Redis the local instances share)\n')
    return 2
  }
  const parsed = parseSimulateArgs(['--url', 'ws://placeholder', ...argv])
  if (parsed.kind !== 'run') {
    process.stderr.write(parsed.kind === 'help' ? SIMULATE_USAGE : `error: ${parsed.message}\n`)
    return parsed.kind === 'help' ? 0 : 2
  }
  const prefix = `rehearse${process.pid}`
  const instances: Instance[] = []
  try {
    for (let index = 0; index < count; index++) {
      const spec = { index, port: await freePort(), dataDir: await mkdtemp(join(tmpdir(), 'yws-rehearse-')) }
      instances.push({ ...spec, child: launch(spec, redisUrl, prefix) })
    }
    await Promise.all(instances.map((instance) => waitReady(instance.port)))
    const urls = instances.map((instance) => `ws://127.0.0.1:${instance.port}`)
    log(`${count} instances ready: ${urls.join(', ')}`)

    const durationMs = parsed.options.durationMs ?? 30_000
    // Spread the restarts over the typing time: instance i goes down at (i + 1) / (n + 1).
    const restartAt = instances.map((_, i) => (durationMs * (i + 1)) / (count + 1))
    const drains: Promise<number | string>[] = []
    let next = 0
    const verdict = await simulateEditors({
      ...parsed.options,
      urls,
      durationMs,
      progressIntervalMs: 250,
      onProgress: (progress) => {
        if (progress.phase !== 'typing') return
        while (next < count && progress.elapsedMs >= restartAt[next]!) {
          const instance = instances[next++]!
          // Restarts run one at a time, each after the previous one is back.
          const previous = drains.at(-1) ?? Promise.resolve(0)
          drains.push(
            previous.then(() =>
              // Kept as a value (not thrown) until the run ends, then reported with the rest.
              redeploy(instance, redisUrl, prefix).catch((error: Error) => error.message),
            ),
          )
        }
      },
    })
    const codes = await Promise.all(drains)
    process.stdout.write(parsed.json ? `${JSON.stringify(verdict, null, 2)}\n` : formatVerdict(verdict))
    const badDrain = codes.findIndex((code) => code !== 0)
    if (badDrain >= 0) log(`instance ${badDrain}: ${codes[badDrain]} (expected a drain with exit 0)`)
    if (codes.length < count)
      log(`only ${codes.length} of ${count} instances were restarted (typing too short)`)
    return verdict.ok && badDrain < 0 && codes.length === count ? 0 : 1
  } finally {
    for (const instance of instances) instance.child.kill('SIGKILL')
    await Promise.all(instances.map((instance) => rm(instance.dataDir, { recursive: true, force: true })))
    const redis = new Redis(redisUrl)
    try {
      const keys = [...(await redis.keys(`${prefix}:*`)), ...(await redis.keys(`{${prefix}:*`))]
      if (keys.length > 0) await redis.del(...keys)
    } finally {
      redis.disconnect()
    }
  }
}

process.exitCode = await main(process.argv.slice(2))
