/** The floor target: the bare `ws` relay in bench/peers/ws-relay.ts (light clients only). */
import { fileURLToPath } from 'node:url'
import { launchNode, packageVersion, type StartOptions, type Target } from './target.js'

const WRAPPER = fileURLToPath(new URL('../peers/ws-relay.ts', import.meta.url))

export function wsRelayTarget(): Target {
  return {
    id: 'ws-relay',
    protocol: 'relay',
    version: `ws ${packageVersion('ws')}`,
    supportsCluster: false,
    floor: true,
    unavailable: () => null,
    start(opts: StartOptions) {
      return launchNode(WRAPPER, process.cwd(), {}, opts.cpu)
    },
  }
}
