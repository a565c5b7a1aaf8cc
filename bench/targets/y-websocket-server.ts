/** The reference server `@y/websocket-server`, through the wrapper in bench/peers/. */
import { fileURLToPath } from 'node:url'
import { launchNode, packageVersion, type StartOptions, type Target } from './target.js'

const WRAPPER = fileURLToPath(new URL('../peers/y-websocket-server.ts', import.meta.url))

export function yWebsocketServerTarget(): Target {
  return {
    id: 'y-websocket-server',
    protocol: 'y-websocket',
    version: packageVersion('@y/websocket-server'),
    supportsCluster: false,
    unavailable: () => null,
    start(opts: StartOptions) {
      const env: Record<string, string> = {}
      if (opts.dataDir) env.YPERSISTENCE = opts.dataDir
      return launchNode(WRAPPER, process.cwd(), env, opts.cpu)
    },
  }
}
