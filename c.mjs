import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const port = process.argv[2]
const d1 = new Y.Doc(),
  d2 = new Y.Doc()
const p1 = new WebsocketProvider(`ws://localhost:${port}`, 'my/doc', d1, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
})
const p2 = new WebsocketProvider(`ws://localhost:${port}`, 'my/doc', d2, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
})
p1.awareness.setLocalStateField('user', { name: 'a' })
await new Promise((r) => p1.on('sync', (s) => s && r()))
d1.getText('t').insert(0, 'hello')
await new Promise((r) => setTimeout(r, 300))
console.log('d2:', d2.getText('t').toString(), 'aw', [...p2.awareness.getStates().values()])
p1.destroy()
p2.destroy()
