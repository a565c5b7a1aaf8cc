/**
 * `npm run demo`: builds the example editor pages, serves them on loopback, starts the server
 * through its real entry point (two instances sharing Redis when REDIS_URL is set, else one
 * standalone instance) and prints the URLs to open. Ctrl+C stops everything it started.
 *
 * Environment (all optional): DEMO_HTTP_PORT (8080), DEMO_SERVER_PORT (1234; the second
 * instance takes the next port; 0 picks free ports), DEMO_DOC (demo), DEMO_DATA_DIR
 * (./data/demo), REDIS_URL, REDIS_PREFIX (demo).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { buildEditorPages, type StaticServer, serveStatic } from './editor-page.js'

const HOST = '127.0.0.1'
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const CLUSTER_MISSING = /cluster mode .*not available yet/

interface Instance {
  readonly id: string
  readonly child: ChildProcess
  readonly url: string
  readonly exited: Promise<number | string>
}

function portFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  const port = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number (0-65535), got "${raw}"`)
  }
  return port
}

/** Starts one instance and resolves once it listens; rejects with its output if it exits first. */
function startInstance(id: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, HOST, LOG_LEVEL: 'info', INSTANCE_ID: id, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | string>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal ?? -1)),
  )
  // Until it listens, output is kept for the error (a failed start is reported once, by the
  // caller); after that, stderr goes straight through.
  const output: string[] = []
  let started = false
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (started) process.stderr.write(`[${id}] ${line}\n`)
    else output.push(line)
  })
  return new Promise<Instance>((ready, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!started) output.push(line)
      const listening = /"port":(\d+)/.exec(line)
      if (listening && line.includes('listening')) {
        started = true
        ready({ id, child, url: `ws://${HOST}:${listening[1]}`, exited })
      }
      // Info lines are the server's business; show people what needs their attention.
      if (/"level":"(warn|error|fatal)"/.test(line)) process.stdout.write(`[${id}] ${line}\n`)
    })
    void exited.then((code) =>
      fail(new Error(`${id} exited (${code}) before listening:\n${output.join('\n')}`)),
    )
  })
}

async function main(): Promise<void> {
  const env = process.env
  const httpPort = portFrom(env, 'DEMO_HTTP_PORT', 8080)
  const serverPort = portFrom(env, 'DEMO_SERVER_PORT', 1234)
  const doc = env.DEMO_DOC || 'demo'
  const dataRoot = resolve(env.DEMO_DATA_DIR || 'data/demo')
  const redisUrl = env.REDIS_URL || undefined

  const instances: Instance[] = []
  let site: StaticServer | undefined
  let pagesDir: string | undefined
  let stopping: Promise<void> | undefined
  const stop = (why: string, code: number) => {
    stopping ??= (async () => {
      console.log(`\nstopping (${why})…`)
      for (const instance of instances) instance.child.kill('SIGTERM')
      // Promise 2: an instance exits within 10 s of SIGTERM; past that, force it.
      const deadline = setTimeout(() => {
        for (const instance of instances) instance.child.kill('SIGKILL')
      }, 11_000)
      const codes = await Promise.all(instances.map((instance) => instance.exited))
      clearTimeout(deadline)
      for (const [i, instance] of instances.entries()) console.log(`${instance.id} exited with ${codes[i]}`)
      await site?.close()
      if (pagesDir) await rm(pagesDir, { recursive: true, force: true })
      process.exit(code)
    })()
  }
  process.once('SIGINT', () => stop('SIGINT', 0))
  process.once('SIGTERM', () => stop('SIGTERM', 0))
  // Last resort if this process dies some other way: never leave servers behind.
  process.once('exit', () => {
    for (const instance of instances) instance.child.kill('SIGKILL')
  })

  try {
    pagesDir = await mkdtemp(join(tmpdir(), 'yws-demo-pages-'))
    await buildEditorPages(pagesDir)
    site = await serveStatic(pagesDir, { host: HOST, port: httpPort })

    const envFor = (index: number, cluster: boolean): Record<string, string> => ({
      PORT: String(serverPort === 0 ? 0 : serverPort + index),
      DATA_DIR: join(dataRoot, `instance-${index}`),
      // Empty means unset to the server: a standalone fallback must not inherit our REDIS_URL.
      ...(cluster && redisUrl
        ? { REDIS_URL: redisUrl, REDIS_PREFIX: env.REDIS_PREFIX || 'demo' }
        : { REDIS_URL: '', REDIS_CLUSTER_NODES: '' }),
    })
    await mkdir(join(dataRoot, 'instance-0'), { recursive: true })
    let mode = 'one standalone instance (REDIS_URL is not set)'
    if (redisUrl) {
      try {
        instances.push(await startInstance('demo-0', envFor(0, true)))
        await mkdir(join(dataRoot, 'instance-1'), { recursive: true })
        instances.push(await startInstance('demo-1', envFor(1, true)))
        mode = 'two instances relaying through Redis'
      } catch (error) {
        if (!CLUSTER_MISSING.test(String(error))) throw error
        mode = 'one standalone instance (this build has no cluster mode yet; REDIS_URL ignored)'
      }
    }
    if (instances.length === 0) instances.push(await startInstance('demo-0', envFor(0, false)))
    for (const instance of instances) {
      void instance.exited.then((code) => {
        if (!stopping) {
          console.error(`${instance.id} exited unexpectedly (${code})`)
          stop(`${instance.id} died`, 1)
        }
      })
    }

    // URLSearchParams escapes ':' and '/'; the page reads them fine unescaped, and people read
    // them better that way.
    const pageUrl = (file: string, params: Record<string, string>) =>
      `${site!.url}/${file}?${new URLSearchParams(params).toString().replaceAll('%3A', ':').replaceAll('%2F', '/')}`
    const names = ['Ada', 'Bob']
    const lines = [
      '',
      `Collaborative editing demo: ${mode}`,
      '',
      ...instances.map((instance) => `  ${instance.id}: ${instance.url}  (pid ${instance.child.pid})`),
      '',
      'Open each in its own window (and try a second browser too):',
      ...names.map((name, i) => {
        const instance = instances[i % instances.length]!
        return `  ${name} on ${instance.id}: ${pageUrl('index.html', { server: instance.url, doc, name })}`
      }),
      `  CodeMirror:    ${pageUrl('code.html', { server: instances[0]!.url, doc: `${doc}-code`, name: 'Cy' })}`,
      '',
      `Documents are kept in ${dataRoot}. Ctrl+C stops everything.`,
    ]
    console.log(lines.join('\n'))
  } catch (error) {
    console.error(`demo failed to start: ${error instanceof Error ? error.message : String(error)}`)
    stop('start-up failed', 1)
  }
}

void main()
