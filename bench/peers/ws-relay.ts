/**
 * The floor: a bare `ws` room relay on HOST:PORT. The URL path names the room; every frame a
 * socket sends is forwarded unchanged to the other sockets of its room. No Yjs, no sync, no
 * storage, so no real server can be faster; it shows what the socket path alone costs.
 */
import http from 'node:http'
import { type WebSocket, WebSocketServer } from 'ws'

const rooms = new Map<string, Set<WebSocket>>()
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' })
  res.end('okay')
})
const wss = new WebSocketServer({ server })
wss.on('connection', (ws, req) => {
  const name = req.url ?? '/'
  let room = rooms.get(name)
  if (!room) {
    room = new Set()
    rooms.set(name, room)
  }
  const members = room
  members.add(ws)
  ws.on('message', (data: Buffer, isBinary) => {
    for (const other of members)
      if (other !== ws && other.readyState === other.OPEN) other.send(data, { binary: isBinary })
  })
  ws.on('close', () => {
    members.delete(ws)
    if (members.size === 0) rooms.delete(name)
  })
  // A reset from a killed client must not take the relay down.
  ws.on('error', () => ws.terminate())
})
server.listen(Number(process.env.PORT ?? '1234'), process.env.HOST ?? '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', port: process.env.PORT }))
})
process.on('SIGTERM', () => process.exit(0))
