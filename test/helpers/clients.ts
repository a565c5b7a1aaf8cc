/**
 * Real y-websocket providers over real sockets. `disableBc: true` always: otherwise
 * providers in one process sync through BroadcastChannel and bypass the server.
 */

import { onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { waitFor } from './wait.js'

export interface TestClient {
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  readonly text: Y.Text
  destroy(): void
}

export function connectClient(
  serverUrl: string,
  docName: string,
  options: { params?: Record<string, string>; protocols?: string[]; connect?: boolean } = {},
): TestClient {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(serverUrl, docName, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    connect: options.connect ?? true,
    ...(options.params ? { params: options.params } : {}),
    ...(options.protocols ? { protocols: options.protocols } : {}),
    // Tests want fast, deterministic reconnects.
    maxBackoffTime: 200,
  })
  let destroyed = false
  const destroy = () => {
    if (destroyed) return
    destroyed = true
    provider.awareness.destroy()
    provider.destroy()
    doc.destroy()
  }
  onTestFinished(destroy)
  return { doc, provider, text: doc.getText('t'), destroy }
}

/** Connects and waits until the provider has completed its first sync with the server. */
export async function connectSynced(
  serverUrl: string,
  docName: string,
  options: Parameters<typeof connectClient>[2] = {},
): Promise<TestClient> {
  const client = connectClient(serverUrl, docName, options)
  await waitFor(() => client.provider.synced, { what: `${docName} to sync` })
  return client
}

/** Waits until every doc encodes the same state (exact equality, not just length). */
export async function waitForConvergence(docs: readonly Y.Doc[], timeoutMs = 15_000): Promise<void> {
  await waitFor(
    () => {
      const first = Y.encodeStateVector(docs[0]!)
      const firstText = JSON.stringify(docs[0]!.toJSON())
      return docs.every(
        (doc) =>
          Buffer.compare(Y.encodeStateVector(doc), first) === 0 && JSON.stringify(doc.toJSON()) === firstText,
      )
    },
    { timeoutMs, what: 'documents to converge' },
  )
}
