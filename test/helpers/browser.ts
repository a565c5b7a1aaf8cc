/**
 * Headless Chromium for the browser tests: Debian's `chromium` found on PATH, driven by
 * playwright-core (never a downloaded browser build), and the example editor pages built
 * into a temp dir and served over loopback. Each user is a separate browser context, so
 * pages share no storage, cookies or BroadcastChannel.
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { buildEditorPages, type StaticServer, serveStatic } from '../../scripts/editor-page.js'
import { tempDirKeep } from './temp-dir.js'

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
]

/** The `chromium` binary on PATH (installed by .ci/browser-deps). */
export function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const candidate = join(dir, name)
      try {
        accessSync(candidate, constants.X_OK)
        return candidate
      } catch {
        // Not in this PATH entry; keep looking.
      }
    }
  }
  throw new Error('no chromium on PATH: run .ci/browser-deps (apt-get install chromium)')
}

/**
 * Playwright's launch() gives every browser a fresh temporary user-data-dir and removes it
 * on close, which is what we want: nothing carries over between runs.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS })
}

/** Builds the example pages into a fresh temp dir and serves them; close() stops the server. */
export async function serveEditorPages(): Promise<StaticServer> {
  const dir = await tempDirKeep('yws-editor-')
  await buildEditorPages(dir.path)
  const server = await serveStatic(dir.path)
  return {
    url: server.url,
    async close() {
      await server.close()
      await dir.remove()
    },
  }
}

export interface EditorPage {
  readonly page: Page
  readonly context: BrowserContext
  readonly name: string
  /** Errors the page threw or logged, to explain a failure. */
  readonly errors: string[]
  close(): Promise<void>
}

export interface OpenEditorOptions {
  readonly server: string
  readonly doc: string
  readonly name: string
  readonly color?: string
  /** `index.html` (ProseMirror, default) or `code.html` (CodeMirror). */
  readonly file?: string
  /** Wait for the first sync with the server (default true). */
  readonly waitSynced?: boolean
}

export async function openEditor(
  browser: Browser,
  pagesUrl: string,
  options: OpenEditorOptions,
): Promise<EditorPage> {
  const context = await browser.newContext({ viewport: { width: 800, height: 520 } })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(String(error)))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  const query = new URLSearchParams({ server: options.server, doc: options.doc, name: options.name })
  if (options.color) query.set('color', options.color)
  await page.goto(`${pagesUrl}/${options.file ?? 'index.html'}?${query}`)
  if (options.waitSynced ?? true) await waitForStatus(page, 'connected', true)
  let closed: Promise<void> | undefined
  return {
    page,
    context,
    name: options.name,
    errors,
    close() {
      closed ??= context.close()
      return closed
    },
  }
}

/** Waits for the page's status indicator (what a user sees) to show this state. */
export async function waitForStatus(
  page: Page,
  status: string,
  synced?: boolean,
  timeout = 15_000,
): Promise<void> {
  const selector = `#status[data-status="${status}"]${synced === undefined ? '' : `[data-synced="${synced}"]`}`
  await page.waitForSelector(selector, { timeout })
}

/**
 * `window.demo` as the example pages expose it. Functions passed to page.evaluate() run in
 * the page, and this project's tsconfig has no DOM lib, so they reach it through
 * `(globalThis as unknown as DemoWindow).demo` (a type-only cast, erased before serialisation).
 */
export interface PageDemo {
  view: { state: { doc: { toJSON(): unknown; toString(): string } } }
  /** ProseMirror page: the bound Y.XmlFragment. */
  fragment?: { toString(): string }
  /** CodeMirror page: the bound Y.Text. */
  ytext?: { toString(): string }
  provider: { connect(): void; disconnect(): void }
  undoManager(): { undoStack: unknown[]; redoStack: unknown[]; stopCapturing(): void }
  selectInBlock(index: number, text?: string): void
}
export type DemoWindow = { demo: PageDemo }

/** What a page holds: the editor's own document (ProseMirror JSON or CodeMirror text) and the Yjs type. */
export function editorState(page: Page): Promise<{ editor: string; yjs: string }> {
  return page.evaluate(() => {
    const demo = (globalThis as unknown as DemoWindow).demo
    if (demo.ytext) return { editor: demo.view.state.doc.toString(), yjs: demo.ytext.toString() }
    return { editor: JSON.stringify(demo.view.state.doc.toJSON()), yjs: demo.fragment!.toString() }
  })
}

/**
 * Waits until every page's editor and Yjs type are identical across pages (and, if given,
 * equal `expectedYjs()` — e.g. what a fresh Node client reads from the server).
 */
export async function waitForEditorsToConverge(
  pages: readonly Page[],
  { timeoutMs = 15_000, expectedYjs }: { timeoutMs?: number; expectedYjs?: () => string } = {},
): Promise<{ editor: string; yjs: string }> {
  const deadline = Date.now() + timeoutMs
  let states: { editor: string; yjs: string }[] = []
  for (;;) {
    states = await Promise.all(pages.map(editorState))
    const first = states[0]!
    const same = states.every((state) => state.editor === first.editor && state.yjs === first.yjs)
    if (same && (!expectedYjs || expectedYjs() === first.yjs)) return first
    if (Date.now() > deadline) {
      throw new Error(`editors did not converge in ${timeoutMs} ms:\n${states.map((s) => s.yjs).join('\n')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Screenshots the pages and saves them side by side as one PNG (composed by the browser itself). */
export async function saveSideBySide(browser: Browser, pages: readonly Page[], path: string): Promise<void> {
  const shots = await Promise.all(pages.map((page) => page.screenshot()))
  const size = pages[0]!.viewportSize() ?? { width: 800, height: 520 }
  const context = await browser.newContext({
    viewport: { width: (size.width + 8) * pages.length, height: size.height },
  })
  try {
    const canvas = await context.newPage()
    const style = `flex:none;width:${size.width}px;height:${size.height}px;border:1px solid #999`
    const images = shots.map(
      (png) => `<img style="${style}" src="data:image/png;base64,${png.toString('base64')}">`,
    )
    await canvas.setContent(
      `<body style="margin:0"><div id="row" style="display:inline-flex;gap:6px">${images.join('')}</div></body>`,
    )
    await canvas.locator('#row').screenshot({ path })
  } finally {
    await context.close()
  }
}
