/**
 * Measures change webhooks on a two-instance cluster (shared Redis, unique key prefix):
 *  1. delivery latency: from the moment a doc's window closes (last edit + debounce) until the
 *     receiver has the signed POST;
 *  2. duplicates and losses when one instance is killed (SIGKILL) at a random moment of a
 *     window (before, during or after its close, claim or delivery) and then restarted.
 *
 *   npx tsx scripts/webhook-measure.ts [--redis redis://127.0.0.1:6379] [--docs 40] [--kills 10]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { SignJWT } from 'jose'
import { Webhook } from 'standardwebhooks'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const { values } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    docs: { type: 'string', default: '40' },
    kills: { type: 'string', default: '10' },
  },
})
const redisUrl = values.redis!
const prefix = `whm${randomBytes(4).toString('hex')}`
const secret = `whsec_${randomBytes(32).toString('base64')}`
const authSecret = randomBytes(32).toString('hex')
const DEBOUNCE_MS = 500

// --- receiver ---------------------------------------------------------------------------
interface Received {
  id: string
  doc: string
  users: string[]
  at: number
  verified: boolean
}
const received: Received[] = []
const verifier = new Webhook(secret)
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8')
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(request.headers[h])]),
    )
    let verified = true
    try {
      verifier.verify(raw, headers)
    } catch {
      verified = false // counted in the report
    }
    const body = JSON.parse(raw) as { data: { doc: string; users: string[] } }
    received.push({
      id: headers['webhook-id']!,
      doc: body.data.doc,
      users: body.data.users,
      at: Date.now(),
      verified,
    })
    response.writeHead(204).end()
  })
})
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`

// --- instances (child processes, as in production) ----------------------------------------
interface Instance {
  child: ChildProcess
  port: number
  exited: Promise<void>
}
const MAIN = new URL('../src/main.ts', import.meta.url).pathname

async function startInstance(id: string, dataDir: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      INSTANCE_ID: id,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      AUTH_SECRET: authSecret,
      WEBHOOK_URL: receiverUrl,
      WEBHOOK_SECRET: secret,
      WEBHOOK_DEBOUNCE_MS: String(DEBOUNCE_MS),
      WEBHOOK_MAX_WAIT_MS: '5000',
      WEBHOOK_RETRY_MIN_MS: '200',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /"port":(\d+)/.exec(line)
      if (match && line.includes('listening')) resolve(Number(match[1]))
    })
    void exited.then(() => reject(new Error(`${id} exited before listening`)))
  })
  return { child, port, exited }
}

async function token(sub: string): Promise<string> {
  return new SignJWT({ docs: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(authSecret))
}

async function editor(port: number, doc: string, sub: string) {
  const ydoc = new Y.Doc()
  const provider = new WebsocketProvider(`ws://127.0.0.1:${port}`, doc, ydoc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params: { token: await token(sub) },
  })
  await new Promise<void>((resolve) => provider.once('sync', () => resolve()))
  return {
    text: ydoc.getText('t'),
    destroy: () => {
      provider.destroy()
      ydoc.destroy()
    },
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
const redis = new Redis(redisUrl)
const dirs = [await mkdtemp(join(tmpdir(), 'yws-whm-a-')), await mkdtemp(join(tmpdir(), 'yws-whm-b-'))]
let a = await startInstance('whm-a', dirs[0]!)
const b = await startInstance('whm-b', dirs[1]!)

// --- 1. latency ----------------------------------------------------------------------------
const docCount = Number(values.docs)
const lastEdit = new Map<string, number>()
const editors = []
for (let i = 0; i < docCount; i += 1) {
  editors.push(await editor(a.port, `lat-${i}`, 'alice'), await editor(b.port, `lat-${i}`, 'bob'))
}
for (let i = 0; i < docCount; i += 1) {
  for (let k = 0; k < 3; k += 1) {
    if (k > 0) await sleep(20)
    editors[2 * i]!.text.insert(0, 'a')
    editors[2 * i + 1]!.text.insert(0, 'b')
  }
  // The edits reach the servers a moment later, so this slightly overstates the latency.
  lastEdit.set(`lat-${i}`, Date.now())
  await sleep(37) // staggered, so windows close at different moments of the claim tick
}
await waitFor(() => received.filter((r) => r.doc.startsWith('lat-')).length >= docCount, 30_000)
const latencies = received
  .filter((r) => r.doc.startsWith('lat-'))
  .map((r) => r.at - (lastEdit.get(r.doc)! + DEBOUNCE_MS))
  .sort((x, y) => x - y)
for (const e of editors) e.destroy()
const latencyDocs = new Set(received.filter((r) => r.doc.startsWith('lat-')).map((r) => r.doc)).size

// --- 2. kills mid-window -----------------------------------------------------------------
const kills = Number(values.kills)
const killDelays: number[] = []
for (let round = 0; round < kills; round += 1) {
  const doc = `kill-${round}`
  const alice = await editor(a.port, doc, 'alice')
  const bob = await editor(b.port, doc, 'bob')
  alice.text.insert(0, 'a')
  bob.text.insert(0, 'b')
  const winKey = `${prefix}:{wh}:win:${Buffer.from(doc).toString('base64url')}`
  await waitFor(
    async () =>
      (await redis.hexists(winKey, 'u:alice')) === 1 && (await redis.hexists(winKey, 'u:bob')) === 1,
    5000,
  )
  // Anywhere from mid-window to just after the close (claim / delivery in progress).
  const delay = Math.floor(Math.random() * (DEBOUNCE_MS + 300))
  killDelays.push(delay)
  await sleep(delay)
  alice.destroy()
  a.child.kill('SIGKILL')
  await a.exited
  await waitFor(() => received.some((r) => r.doc === doc), 20_000)
  bob.destroy()
  a = await startInstance('whm-a', dirs[0]!)
  // Let a restarted claimer flush what its outbox held (a claim lease is 10 s).
  await waitFor(
    async () =>
      (await redis.zcard(`${prefix}:{wh}:claimed`)) === 0 && (await redis.zcard(`${prefix}:{wh}:due`)) === 0,
    15_000,
  )
  await sleep(1000)
}
const killed = received.filter((r) => r.doc.startsWith('kill-'))
const killedDocs = new Set(killed.map((r) => r.doc))
const bothUsers = killed.filter((r) => r.users.includes('alice') && r.users.includes('bob')).length

console.log(
  JSON.stringify(
    {
      debounceMs: DEBOUNCE_MS,
      latency: {
        windows: docCount,
        deliveredDocs: latencyDocs,
        deliveries: latencies.length,
        msAfterWindowClose: {
          min: latencies[0],
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
          max: latencies.at(-1),
        },
      },
      kills: {
        rounds: kills,
        windowsDelivered: killedDocs.size,
        deliveries: killed.length,
        duplicates: killed.length - new Set(killed.map((r) => r.id)).size,
        extraEvents: killed.length - killedDocs.size,
        lost: kills - killedDocs.size,
        withBothUsers: bothUsers,
        killDelaysMs: killDelays,
      },
      allVerified: received.every((r) => r.verified),
    },
    null,
    2,
  ),
)

a.child.kill('SIGTERM')
b.child.kill('SIGTERM')
await Promise.all([a.exited, b.exited])
const keys = await redis.keys(`${prefix}:*`)
if (keys.length > 0) await redis.del(...keys)
redis.disconnect()
receiver.close()
