/**
 * The library API (INTERFACE.md "Library API"): createServer with options only, listen or
 * mount on your own http.Server, server-side edits through a direct connection, close().
 * Real providers, real LevelDB in temp dirs, real Redis for the cluster case.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import * as Y from 'yjs'
import { ConfigError, createServer, type ServerOptions, YwsError } from '../../src/index.js'
import { createLogger } from '../../src/observability/logger.js'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest } from '../helpers/http.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

async function libraryServer(options: ServerOptions = {}) {
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: await tempDir('yws-lib-'),
    roomIdleMs: 100,
    logger: createLogger('warn', 'lib-test'),
    ...options,
  })
  onTestFinished(() => server.close())
  return server
}

describe('createServer', () => {
  it('listens on a free port; a direct connection edit reaches a provider and LevelDB', async () => {
    const dataDir = await tempDir('yws-lib-')
    const server = await libraryServer({ dataDir })
    const { port } = await server.listen()
    const client = await connectSynced(`ws://127.0.0.1:${port}`, 'notes')

    const conn = await server.openDirectConnection('notes')
    const result = await conn.transact((doc) => {
      doc.getText('t').insert(0, 'from the server')
      return 42
    })
    expect(result).toBe(42)
    await waitFor(() => client.text.toString() === 'from the server', {
      what: 'the provider to see the edit',
    })
    client.text.insert(0, '> ')
    await waitFor(() => conn.doc.getText('t').toString() === '> from the server')
    await conn.disconnect()
    await conn.disconnect()
    expect(() => conn.doc).toThrow(YwsError)
    await expect(conn.transact(() => undefined)).rejects.toMatchObject({ code: 'YWS_ERR_DISCONNECTED' })
    client.destroy()
    await server.close()

    // A fresh server on the same directory serves what the direct connection wrote.
    const again = await libraryServer({ dataDir })
    const reread = await again.openDirectConnection('notes')
    expect(reread.doc.getText('t').toString()).toBe('> from the server')
  })

  it('mounts on an http.Server that the library never listens on', async () => {
    const server = await libraryServer()
    const http = createHttpServer(async (request, response) => {
      if (await server.handleRequest(request, response)) return
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('my app')
    })
    http.on('upgrade', (request, socket, head) => server.handleUpgrade(request, socket, head))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => http.close(() => resolve())))
    const { port } = http.address() as AddressInfo

    expect((await httpRequest(port, '/healthz')).status).toBe(200)
    expect((await httpRequest(port, '/readyz')).status).toBe(200)
    expect((await httpRequest(port, '/metrics')).body).toContain('yws_connections')
    const other = await httpRequest(port, '/somewhere/else')
    expect(other.status).toBe(200)
    expect(other.body).toBe('my app')

    const a = await connectSynced(`ws://127.0.0.1:${port}`, 'mounted')
    const b = await connectSynced(`ws://127.0.0.1:${port}`, 'mounted')
    a.text.insert(0, 'hello')
    await waitFor(() => b.text.toString() === 'hello')
    const conn = await server.openDirectConnection('mounted')
    expect(conn.doc.getText('t').toString()).toBe('hello')
    a.destroy()
    b.destroy()
    await server.close()
    await waitFor(() => http.listening, { what: 'the host server to keep listening' })
  })

  it('close() is idempotent, and afterwards nothing opens', async () => {
    const server = await libraryServer()
    await server.listen()
    const conn = await server.openDirectConnection('doc')
    const first = server.close()
    const second = server.close()
    await Promise.all([first, second])
    await server.close()
    await expect(conn.transact(() => undefined)).rejects.toMatchObject({ code: 'YWS_ERR_DISCONNECTED' })
    await expect(server.openDirectConnection('doc')).rejects.toMatchObject({ code: 'YWS_ERR_CLOSED' })
    await expect(server.listen()).rejects.toBeInstanceOf(YwsError)
  })

  it('creating a server touches nothing; close() before any use is fine', async () => {
    const dataDir = join(await tempDir('yws-lib-'), 'never-created')
    const server = await libraryServer({ dataDir })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(existsSync(dataDir)).toBe(false)
    await server.close()
    await server.close()
    expect(existsSync(dataDir)).toBe(false)
  })

  it('refuses a bad document name and bad options, naming them', async () => {
    const server = await libraryServer()
    await expect(server.openDirectConnection('')).rejects.toMatchObject({ code: 'YWS_ERR_DOC_NAME' })
    expect(() => createServer({ port: -1 })).toThrow(ConfigError)
    expect(() => createServer({ port: -1 })).toThrow(/^port must be between 0 and 65535/)
    expect(() => createServer({ maxDocBytes: 'big' as unknown as number })).toThrow(/^maxDocBytes/)
  })

  it('refuses an unknown option name or a hook that is not a function, before touching anything', async () => {
    const dataDir = join(await tempDir('yws-lib-'), 'never-created')
    const refused = (options: unknown) => {
      try {
        createServer(options as ServerOptions)
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        expect(error).toMatchObject({ code: 'YWS_ERR_CONFIG' })
        return (error as Error).message
      }
      throw new Error(`accepted ${JSON.stringify(options)}`)
    }
    expect(refused({ dataDri: dataDir, prot: 4171 })).toBe(
      'dataDri is not an option of createServer (did you mean dataDir?)',
    )
    expect(refused({ dataDir, prot: 4171 })).toBe(
      'prot is not an option of createServer (did you mean port?)',
    )
    expect(refused({ dataDir, zzzzzzzz: 1 })).toBe('zzzzzzzz is not an option of createServer')
    expect(refused({ dataDir, hooks: { onChange: 5 } })).toBe('hooks.onChange must be a function, got 5')
    expect(refused({ dataDir, hooks: { onchange: () => undefined } })).toBe(
      'hooks.onchange is not a hook (did you mean onChange?)',
    )
    expect(refused({ dataDir, hooks: () => undefined })).toMatch(/^hooks must be an object of hook functions/)
    expect(refused({ dataDir, extensions: [{}, { onLoadDocument: 'x' }] })).toBe(
      'extensions[1].onLoadDocument must be a function, got "x"',
    )
    expect(refused({ dataDir, onDrain: true })).toBe('onDrain must be a function, got true')
    expect(existsSync(dataDir)).toBe(false)
    // Every setting of the table and every library option is still accepted.
    const server = await libraryServer({ dataDir, storeDebounceMs: 10, hooks: { onChange: undefined } })
    await server.close()
  })

  it('direct edits reach a provider on another instance through Redis', async () => {
    const redisPrefix = uniquePrefix()
    const a = await libraryServer({ redisUrl: SHARED_REDIS_URL, redisPrefix, instanceId: 'lib-a' })
    const b = await libraryServer({ redisUrl: SHARED_REDIS_URL, redisPrefix, instanceId: 'lib-b' })
    await a.listen()
    const { port } = await b.listen()
    const client = await connectSynced(`ws://127.0.0.1:${port}`, 'shared')
    const conn = await a.openDirectConnection('shared')
    await conn.transact((doc) => doc.getMap('m').set('k', 'v'))
    await waitFor(() => client.doc.getMap('m').get('k') === 'v', { what: 'the edit to cross instances' })
    expect(Y.encodeStateVector(client.doc)).toEqual(Y.encodeStateVector(conn.doc))
  })
})

describe('the library in its own process', () => {
  it('importing starts nothing; after close() the process exits by itself', async () => {
    const dataDir = await tempDir('yws-lib-')
    const script = fileURLToPath(new URL('../library/exit-after-close.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir], {
      // A poisoned environment proves createServer reads none of it.
      env: { ...process.env, PORT: 'not-a-port', DATA_DIR: '/nonexistent/nowhere' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    const code = await new Promise<number | null>((resolve) =>
      child.once('exit', (exitCode) => resolve(exitCode)),
    )
    expect(output).toContain('after import: []')
    expect(output).toContain('closed')
    expect(code, output).toBe(0)
  })
})
