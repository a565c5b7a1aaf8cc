/**
 * Starts Hocuspocus on HOST:PORT with its defaults (debounce 2 s, maxDebounce 10 s).
 * REDIS_URL set: adds @hocuspocus/extension-redis (identifier INSTANCE_ID, prefix REDIS_PREFIX).
 * DATA_DIR set: stores documents in LevelDB the way @hocuspocus/extension-database does,
 * one full `encodeStateAsUpdate` snapshot per document, loaded in onLoadDocument.
 * Hocuspocus handles SIGTERM itself: destroy() stores every loaded document, then exits.
 */

import { Redis } from '@hocuspocus/extension-redis'
import type { Extension } from '@hocuspocus/server'
import { Server } from '@hocuspocus/server'
import { Level } from 'level'
import * as Y from 'yjs'

const extensions: Extension[] = []

const redisUrl = process.env.REDIS_URL
if (redisUrl) {
  const u = new URL(redisUrl)
  extensions.push(
    new Redis({
      host: u.hostname,
      port: Number(u.port || '6379'),
      identifier: process.env.INSTANCE_ID ?? 'hocuspocus',
      prefix: process.env.REDIS_PREFIX ?? 'hocuspocus',
    }),
  )
}

const dataDir = process.env.DATA_DIR
if (dataDir) {
  const db = new Level<string, Uint8Array>(dataDir, { valueEncoding: 'view' })
  extensions.push({
    async onLoadDocument({ document, documentName }) {
      const stored = await db.get(documentName)
      if (stored) Y.applyUpdate(document, stored)
      return document
    },
    async onStoreDocument({ document, documentName }) {
      await db.put(documentName, Y.encodeStateAsUpdate(document))
    },
  })
}

const server = new Server({
  port: Number(process.env.PORT ?? '1234'),
  address: process.env.HOST ?? '127.0.0.1',
  quiet: true,
  extensions,
})
await server.listen()
console.log(JSON.stringify({ msg: 'listening', port: server.address.port }))
