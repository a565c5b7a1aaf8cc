/**
 * Run as a child process by test/integration/library.test.ts: uses the library end to end and
 * then simply returns. The process must exit on its own (no process.exit): close() has to
 * release every handle (sockets, timers, LevelDB, worker threads).
 */
import { createServer } from '../../src/index.js'

// Importing must start nothing: no sockets, timers or threads beyond stdio.
const started = process
  .getActiveResourcesInfo()
  .filter((kind) => !/TTYWrap|PipeWrap|FSReqCallback/.test(kind))
process.stdout.write(`after import: [${started.join(',')}]\n`)
const dataDir = process.argv[2]!
const server = createServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn' })
const { port } = await server.listen()
const conn = await server.openDirectConnection('exit-test')
await conn.transact((doc) => doc.getText('t').insert(0, 'x'))
await conn.disconnect()
await server.close()
process.stdout.write(`closed (port was ${port})\n`)
