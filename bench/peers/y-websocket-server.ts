/**
 * Starts the reference `@y/websocket-server` on HOST:PORT, exactly as its own bin does
 * (`src/server.js`), minus the hard-coded defaults. Persistence is the package's own
 * y-leveldb wiring, switched on by YPERSISTENCE=<dir> (read by the package at import).
 * On SIGTERM it waits for pending LevelDB writes, so a restart sees everything.
 */
import http from 'node:http'
import { getPersistence, setupWSConnection } from '@y/websocket-server/utils'
import { WebSocketServer } from 'ws'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? '1234')

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' })
  res.end('okay')
})
const wss = new WebSocketServer({ noServer: true })
wss.on('connection', setupWSConnection)
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
})
server.listen(port, host, () => {
  console.log(JSON.stringify({ msg: 'listening', port }))
})

process.on('SIGTERM', () => {
  const persistence = getPersistence() as { provider?: { destroy(): Promise<void> } } | null
  server.close()
  for (const ws of wss.clients) ws.terminate()
  const flushed = persistence?.provider ? persistence.provider.destroy() : Promise.resolve()
  flushed.then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('flush failed', err)
      process.exit(1)
    },
  )
})
