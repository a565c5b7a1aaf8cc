/**
 * Our server, started through its CLI contract: the compiled `dist/main.js` (built once), configured
 * by HOST, PORT, DATA_DIR, REDIS_URL (set = cluster mode), INSTANCE_ID, LOG_LEVEL.
 * `--ours <dir>` points at another checkout; skipped with a message if src/main.ts is absent.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { launchNode, type StartOptions, type Target } from './target.js'

export function oursTarget(dir: string): Target {
  const root = resolve(dir)
  const source = join(root, 'src', 'main.ts')
  // Benchmark what `npm start` runs in production: the compiled build, not tsx.
  const main = join(root, 'dist', 'main.js')
  let built = false
  let version = 'unknown'
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
      }
      if (opts.redisUrl) env.REDIS_URL = opts.redisUrl
      return launchNode(main, root, env, opts.cpu)
    },
  }
}
