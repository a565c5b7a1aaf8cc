/** Hocuspocus (plus its Redis extension in cluster mode), through the wrapper in bench/peers/. */
import { fileURLToPath } from 'node:url'
import { launchNode, packageVersion, type StartOptions, type Target } from './target.js'

const WRAPPER = fileURLToPath(new URL('../peers/hocuspocus.ts', import.meta.url))

export function hocuspocusTarget(): Target {
  return {
    id: 'hocuspocus',
    protocol: 'hocuspocus',
    version: `${packageVersion('@hocuspocus/server')} (extension-redis ${packageVersion('@hocuspocus/extension-redis')})`,
    supportsCluster: true,
    unavailable: () => null,
    start(opts: StartOptions) {
      const env: Record<string, string> = { INSTANCE_ID: opts.instanceId ?? 'bench-a' }
      if (opts.dataDir) env.DATA_DIR = opts.dataDir
      if (opts.redisUrl) env.REDIS_URL = opts.redisUrl
      if (opts.redisPrefix) env.REDIS_PREFIX = opts.redisPrefix
      return launchNode(WRAPPER, process.cwd(), env, opts.cpu)
    },
  }
}
