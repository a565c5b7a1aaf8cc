/**
 * One client adapter per wire protocol, both doing the real Yjs work in the load generator:
 * stock `y-websocket` WebsocketProvider (ws polyfill, BroadcastChannel always disabled so
 * clients in one process never shortcut the server) and `@hocuspocus/provider` for
 * Hocuspocus, whose framing is not y-websocket's.
 */
import { HocuspocusProvider } from '@hocuspocus/provider'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import type * as Y from 'yjs'
import type { Protocol } from '../targets/target.js'

export interface BenchClient {
  doc: Y.Doc
  isSynced(): boolean
  /** True once the socket is fully closed after disconnect(). */
  isClosed(): boolean
  /** Resolves on the next transition to synced (or now, if already synced and `fresh` is false). */
  whenSynced(timeoutMs: number, fresh?: boolean): Promise<void>
  disconnect(): void
  connect(): void
  destroy(): void
}

function syncWaiter(
  isSynced: () => boolean,
  on: (cb: () => void) => void,
  off: (cb: () => void) => void,
): BenchClient['whenSynced'] {
  return (timeoutMs, fresh = false) =>
    new Promise<void>((resolve, reject) => {
      if (!fresh && isSynced()) {
        resolve()
        return
      }
      const cb = (): void => {
        if (!isSynced()) return
        clearTimeout(timer)
        off(cb)
        resolve()
      }
      const timer = setTimeout(() => {
        off(cb)
        reject(new Error(`not synced within ${timeoutMs} ms`))
      }, timeoutMs)
      on(cb)
    })
}

export function createClient(protocol: Protocol, url: string, room: string, doc: Y.Doc): BenchClient {
  if (protocol === 'y-websocket') {
    const p = new WebsocketProvider(url, room, doc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    })
    return {
      doc,
      isSynced: () => p.synced,
      isClosed: () => p.ws === null && !p.wsconnected,
      whenSynced: syncWaiter(
        () => p.synced,
        (cb) => p.on('sync', cb),
        (cb) => p.off('sync', cb),
      ),
      disconnect: () => p.disconnect(),
      connect: () => p.connect(),
      destroy: () => p.destroy(),
    }
  }
  if (protocol === 'relay') throw new Error('the bare relay has no sync: only light clients can join it')
  const p = new HocuspocusProvider({
    url,
    name: room,
    document: doc,
    WebSocketPolyfill: WebSocket,
    // Same reconnect policy as y-websocket's client (100 ms doubling, 2.5 s cap), no jitter.
    delay: 100,
    minDelay: 100,
    factor: 2,
    maxDelay: 2500,
    jitter: false,
  } as ConstructorParameters<typeof HocuspocusProvider>[0])
  const ws = p.configuration.websocketProvider
  return {
    doc,
    isSynced: () => p.synced,
    isClosed: () => ws.status === 'disconnected',
    whenSynced: syncWaiter(
      () => p.synced,
      (cb) => p.on('synced', cb),
      (cb) => p.off('synced', cb),
    ),
    disconnect: () => ws.disconnect(),
    connect: () => {
      void ws.connect()
    },
    destroy: () => p.destroy(),
  }
}
