/**
 * Child process of test/integration/redis-client-loading.test.ts: builds and starts a server
 * from `process.env` (the CLI's path: loadConfig then createServer), then prints whether the
 * ioredis package has been loaded into this process, as one JSON line `{ loaded: boolean }`.
 * A fresh process is the only place where "loaded" means "this server loaded it".
 */
import { createRequire } from 'node:module'
import { loadConfig } from '../../src/config/config.js'
import { createServer } from '../../src/server.js'

const server = createServer(loadConfig(process.env))
await server.listen()
const cache = createRequire(import.meta.url).cache
const loaded = Object.keys(cache).some((path) => path.includes('/node_modules/ioredis/'))
await server.close()
process.stdout.write(`${JSON.stringify({ loaded })}\n`)
