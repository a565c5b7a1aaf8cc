/**
 * A server instance restarts under open editor pages: SIGTERM (graceful, exit 0), then the
 * real entry point again on the same port and DATA_DIR. The pages show the outage, keep
 * editing, reconnect by themselves and converge; the restarted instance serves it all.
 */
import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StaticServer } from '../../scripts/editor-page.js'
import {
  type EditorPage,
  launchChromium,
  openEditor,
  saveSideBySide,
  serveEditorPages,
  waitForEditorsToConverge,
  waitForStatus,
} from '../helpers/browser.js'
import { connectSynced } from '../helpers/clients.js'
import { startTopology, type Topology } from '../helpers/instances.js'

const OUTPUT_DIR = 'test-output'

// Started at collection time so the test name can say which topology really runs.
const topology: Topology = await startTopology()
console.info(`restart test runs on ${topology.label}`)

let browser: Browser
let pages: StaticServer
const editors: EditorPage[] = []

beforeAll(async () => {
  ;[browser, pages] = await Promise.all([
    launchChromium(),
    serveEditorPages(),
    mkdir(OUTPUT_DIR, { recursive: true }),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all(editors.map((editor) => editor.close()))
  await browser?.close()
  await pages?.close()
  await topology.close()
}, 30_000)

describe(`server restart under open editors on ${topology.label}`, () => {
  it('pages reconnect to the restarted instance and converge', { timeout: 60_000 }, async () => {
    const doc = `restart-${randomUUID()}`
    const ada = await openEditor(browser, pages.url, {
      server: topology.url(0),
      doc,
      name: 'Ada',
      color: '#d7263d',
    })
    editors.push(ada)
    const bob = await openEditor(browser, pages.url, {
      server: topology.url(1),
      doc,
      name: 'Bob',
      color: '#3066be',
    })
    editors.push(bob)

    await ada.page.click('.ProseMirror')
    await ada.page.keyboard.type('Written before the restart.')
    await waitForEditorsToConverge([ada.page, bob.page])

    // Graceful stop: clients are closed with 1012 and the process exits 0.
    expect(await topology.stop(0)).toBe(0)
    await ada.page.waitForSelector('#status:not([data-status="connected"])')
    await ada.page.screenshot({ path: `${OUTPUT_DIR}/restart-outage.png` })

    // Both keep typing while instance 0 is down (Bob is still online if he is on instance 1).
    await bob.page.click('.ProseMirror')
    await bob.page.keyboard.press('Control+Home')
    await Promise.all([
      (async () => {
        await ada.page.keyboard.press('Enter')
        await ada.page.keyboard.type('Ada, while the server was down.', { delay: 10 })
      })(),
      bob.page.keyboard.type('Bob too: ', { delay: 10 }),
    ])

    await topology.start(0)
    await Promise.all([
      waitForStatus(ada.page, 'connected', true),
      waitForStatus(bob.page, 'connected', true),
    ])
    const merged = await waitForEditorsToConverge([ada.page, bob.page])
    const paragraphs = (JSON.parse(merged.editor) as { content: { content?: { text: string }[] }[] }).content
    expect(paragraphs.map((block) => (block.content ?? []).map((node) => node.text).join(''))).toEqual([
      'Bob too: Written before the restart.',
      'Ada, while the server was down.',
    ])

    // A fresh client of the restarted instance sees the merged document.
    const fresh = await connectSynced(topology.url(0), doc)
    expect(fresh.doc.getXmlFragment('prosemirror').toString()).toBe(merged.yjs)
    expect(ada.errors.filter((error) => !error.includes('WebSocket'))).toEqual([])

    await saveSideBySide(browser, [ada.page, bob.page], `${OUTPUT_DIR}/restart-converged.png`)
  })
})
