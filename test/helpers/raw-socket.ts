import { WebSocket } from 'ws'

/**
 * A raw `ws` client (no y-websocket provider) for sending hand-made frames. Resolves once
 * open; `closed` resolves with the close code the server sent. Rejects on an HTTP refusal.
 */
export async function openSocket(url: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(url)
  const closed = new Promise<number>((resolve) => ws.once('close', resolve))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
  return { ws, closed }
}
