/**
 * `npm run demo` end to end: the script builds and serves the pages, starts the server
 * through its real entry point, prints URLs that work in a browser, and stops its children
 * on SIGTERM (each instance exits 0, nothing is left running).
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchChromium, openEditor, waitForEditorsToConverge } from '../helpers/browser.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const DEMO = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url))

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
}, 30_000)
afterAll(async () => {
  await browser?.close()
})

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    // ESRCH: no such process, which is what we hope for.
    return false
  }
}

it('npm run demo serves working pages and stops its servers on SIGTERM', { timeout: 45_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', DEMO], {
    env: {
      ...process.env,
      DEMO_HTTP_PORT: '0',
      DEMO_SERVER_PORT: '0',
      DEMO_DATA_DIR: await tempDir('yws-demo-'),
      DEMO_DOC: 'demo-test',
      REDIS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  const output: string[] = []
  createInterface({ input: child.stdout! }).on('line', (line) => output.push(line))
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line))
  try {
    await waitFor(() => output.some((line) => line.includes('Ctrl+C stops everything')), {
      timeoutMs: 30_000,
      what: `the demo to print its URLs:\n${output.join('\n')}`,
    })
    const text = output.join('\n')
    expect(text).toContain('one standalone instance (REDIS_URL is not set)')
    const instancePid = Number(/\(pid (\d+)\)/.exec(text)?.[1])
    const pageUrls = [...text.matchAll(/(?:Ada|Bob) on demo-0: (http\S+)/g)].map((match) => match[1]!)
    expect(pageUrls).toHaveLength(2)

    // The printed URLs are what a person opens: both pages sync through the demo's server.
    const pages = await Promise.all(
      pageUrls.map(async (url) => {
        const { origin, pathname, searchParams } = new URL(url)
        const editor = await openEditor(browser, origin, {
          server: searchParams.get('server')!,
          doc: searchParams.get('doc')!,
          name: searchParams.get('name')!,
          file: pathname.slice(1),
        })
        return editor
      }),
    )
    await pages[0]!.page.click('.ProseMirror')
    await pages[0]!.page.keyboard.type('Hello from the demo')
    const merged = await waitForEditorsToConverge(pages.map((editor) => editor.page))
    expect(merged.yjs).toContain('Hello from the demo')
    await Promise.all(pages.map((editor) => editor.close()))

    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(output.join('\n')).toContain('demo-0 exited with 0')
    expect(isRunning(instancePid)).toBe(false)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
