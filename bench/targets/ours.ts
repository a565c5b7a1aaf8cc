/**
 * Our server, started through its CLI contract: the compiled `dist/main.js` (built once), configured
 * by HOST, PORT, DATA_DIR, REDIS_URL (set = cluster mode), INSTANCE_ID, LOG_LEVEL, and ADMIN_TOKEN
 * (a random one per harness run) so the stall scenario can compact through the admin API.
 * `--ours <dir>` points at another checkout; skipped with a message if src/main.ts is absent.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  launchNode,
  type OnlineCompaction,
  type RunningServer,
  type StartOptions,
  type Target,
} from './target.js'

/** The fields of our CompactionResult (src/storage/doc-store.ts) the bench reads. */
interface CompactionAnswer {
  compacted: boolean
  logEntriesMerged: number
  bytesBefore: number
  bytesAfter: number
  durationMs: number
}

/**
 * POST /admin/compact `{doc}` on the server's own port (ADMIN_PORT is not set), as
 * `npm run compact -- --url` does: the running instance flushes and compacts the doc itself.
 */
async function compactThroughAdmin(
  server: RunningServer,
  token: string,
  doc: string,
  timeoutMs: number,
): Promise<OnlineCompaction> {
  const response = await fetch(`${server.url.replace(/^ws/, 'http')}/admin/compact`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ doc }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`POST /admin/compact answered ${response.status}: ${text.slice(0, 200)}`)
  const result = (JSON.parse(text) as { results: CompactionAnswer[] }).results[0]
  if (!result) throw new Error(`POST /admin/compact answered without a result: ${text.slice(0, 200)}`)
  return {
    compacted: result.compacted,
    logEntriesMerged: result.logEntriesMerged,
    bytesBefore: result.bytesBefore,
    bytesAfter: result.bytesAfter,
    serverMs: result.durationMs,
  }
}

export function oursTarget(dir: string): Target {
  const root = resolve(dir)
  const source = join(root, 'src', 'main.ts')
  // Benchmark what `npm start` runs in production: the compiled build, not tsx.
  const main = join(root, 'dist', 'main.js')
  let built = false
  let version = 'unknown'
  // Enables /admin/* on every start; 32 hex characters (ADMIN_TOKEN needs at least 16).
  const adminToken = randomBytes(16).toString('hex')
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    const sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    version = `${pkg.version}+${sha}`
  } catch {
    // Not a git checkout: the package version alone will do.
  }
  return {
    id: 'ours',
    protocol: 'y-websocket',
    version,
    supportsCluster: true,
    unavailable: () =>
      existsSync(source)
        ? null
        : `${source} does not exist yet (server core not merged); pass --ours <checkout>`,
    start(opts: StartOptions) {
      if (!built) {
        execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' })
        built = true
      }
      const env: Record<string, string> = {
        LOG_LEVEL: 'warn',
        DATA_DIR: opts.dataDir ?? '',
        INSTANCE_ID: opts.instanceId ?? 'bench-a',
        ADMIN_TOKEN: adminToken,
        // Empty = unset: the admin routes stay on PORT whatever the harness's environment says.
        ADMIN_PORT: '',
      }
      if (opts.redisUrl) env.REDIS_URL = opts.redisUrl
      return launchNode(main, root, env, opts.cpu)
    },
    compactOnline: (server, doc, timeoutMs) => compactThroughAdmin(server, adminToken, doc, timeoutMs),
  }
}
