/**
 * Builds the example editor pages (examples/editor) with esbuild and serves them from a tiny
 * static HTTP server on loopback. Shared by `npm run demo` and the browser tests; no dev server.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const EXAMPLE_DIR = fileURLToPath(new URL('../examples/editor/', import.meta.url))
const ENTRY_POINTS = ['src/prosemirror-page.ts', 'src/codemirror-page.ts']
const STATIC_FILES = ['index.html', 'code.html', 'style.css']

/** Bundles both pages into `outDir` (created if needed) next to their HTML and CSS. */
export async function buildEditorPages(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true })
  await build({
    absWorkingDir: EXAMPLE_DIR,
    entryPoints: ENTRY_POINTS,
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
  })
  await Promise.all(STATIC_FILES.map((file) => copyFile(join(EXAMPLE_DIR, file), join(outDir, file))))
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
}

export interface StaticServer {
  readonly url: string
  close(): Promise<void>
}

/** Serves the files of `root` (GET only, no directory listing, nothing outside `root`). */
export async function serveStatic(
  root: string,
  { host = '127.0.0.1', port = 0 } = {},
): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)
    const file = normalize(join(root, path === '/' ? 'index.html' : path))
    if (request.method !== 'GET' || !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      response.writeHead(404).end()
      return
    }
    readFile(file).then(
      (body) => {
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
        })
        response.end(body)
      },
      () => response.writeHead(404).end(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closed ??= new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      return closed
    },
  }
}
