/**
 * Version restore in real editors: two ProseMirror pages (y-prosemirror, stock y-websocket
 * provider) in headless Chromium, on two instances sharing Redis. A version with marks and a
 * list is restored on instance A while both pages are open: both show it, keep their
 * connection, keep editing and converge.
 */
import { randomUUID } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { StaticServer } from '../../scripts/editor-page.js'
import {
  type DemoWindow,
  launchChromium,
  openEditor,
  serveEditorPages,
  waitForEditorsToConverge,
} from '../helpers/browser.js'
import { connectSynced } from '../helpers/clients.js'
import { httpRequest } from '../helpers/http.js'
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js'
import { startServer } from '../helpers/server.js'
import { TEST_ADMIN_TOKEN } from '../helpers/tokens.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

let browser: Browser
let pages: StaticServer

beforeAll(async () => {
  ;[browser, pages] = await Promise.all([launchChromium(), serveEditorPages()])
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await pages?.close()
}, 30_000)

interface PmNode {
  type: string
  text?: string
  marks?: { type: string }[]
  content?: PmNode[]
}

const textOf = (node: PmNode): string => node.text ?? (node.content ?? []).map(textOf).join('')

function pmDoc(page: Page): Promise<PmNode> {
  return page.evaluate(() => (globalThis as unknown as DemoWindow).demo.view.state.doc.toJSON() as PmNode)
}

function selectInBlock(page: Page, index: number, text?: string): Promise<void> {
  return page.evaluate(([i, t]) => (globalThis as unknown as DemoWindow).demo.selectInBlock(i, t), [
    index,
    text,
  ] as const)
}

/** "Intro with bold words" (bold on "bold words") and a two-item bullet list. */
function seed(doc: Y.Doc): void {
  const paragraph = new Y.XmlElement('paragraph')
  const text = new Y.XmlText()
  text.insert(0, 'Intro with ')
  text.insert(11, 'bold words', { strong: {} })
  paragraph.insert(0, [text])
  const list = new Y.XmlElement('bullet_list')
  list.insert(
    0,
    ['first item', 'second item'].map((item) => {
      const li = new Y.XmlElement('list_item')
      const p = new Y.XmlElement('paragraph')
      p.insert(0, [new Y.XmlText(item)])
      li.insert(0, [p])
      return li
    }),
  )
  doc.getXmlFragment('prosemirror').insert(0, [paragraph, list])
}

function expectVersionContent(doc: PmNode): void {
  const [intro, list] = doc.content!
  expect(textOf(intro!)).toBe('Intro with bold words')
  expect(intro!.content!.find((node) => node.marks?.some((mark) => mark.type === 'strong'))?.text).toBe(
    'bold words',
  )
  expect(list!.type).toBe('bullet_list')
  expect(list!.content!.map(textOf)).toEqual(['first item', 'second item'])
}

describe('restore in the browser', () => {
  it('two ProseMirror pages on two instances see a restored version with marks and lists, then keep editing and converge', {
    timeout: 90_000,
  }, async () => {
    const prefix = uniquePrefix()
    const cluster = { redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, adminToken: TEST_ADMIN_TOKEN }
    const [a, b] = await Promise.all([
      startServer({ ...cluster, instanceId: 'hist-browser-a', historyIntervalMs: 0 }),
      startServer({ ...cluster, instanceId: 'hist-browser-b', historyIntervalMs: 0 }),
    ])
    const doc = `history-${randomUUID()}`
    const seeder = await connectSynced(a.url, doc)
    seed(seeder.doc)
    const fromServer = () => a.app.registry.get(doc)?.doc.getXmlFragment('prosemirror').toString() ?? ''
    const ada = await openEditor(browser, pages.url, { server: a.url, doc, name: 'Ada', color: '#d7263d' })
    const bob = await openEditor(browser, pages.url, { server: b.url, doc, name: 'Bob', color: '#3066be' })
    try {
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: fromServer })
      expectVersionContent(await pmDoc(bob.page))

      const created = await httpRequest(a.port, `/admin/docs/${encodeURIComponent(doc)}/versions`, {
        method: 'POST',
        headers: ADMIN,
        body: { label: 'before the rewrite' },
      })
      expect(created.status).toBe(201)
      const version = created.json().id as string

      // Bob replaces everything by typing over a select-all.
      await selectInBlock(bob.page, 0)
      await bob.page.keyboard.press('Control+a')
      await bob.page.keyboard.type('rewritten by Bob', { delay: 10 })
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: fromServer })
      expect(textOf(await pmDoc(ada.page))).toBe('rewritten by Bob')

      const started = performance.now()
      const restored = await httpRequest(
        a.port,
        `/admin/docs/${encodeURIComponent(doc)}/versions/${version}/restore`,
        { method: 'POST', headers: ADMIN },
      )
      expect(restored.status, restored.body).toBe(200)
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: fromServer })
      console.info(`restore to both pages: ${(performance.now() - started).toFixed(0)} ms`)
      expectVersionContent(await pmDoc(ada.page))
      expectVersionContent(await pmDoc(bob.page))

      // Both keep editing the restored content (no reload, same connections) and converge.
      await selectInBlock(ada.page, 0)
      await ada.page.keyboard.type(' and more', { delay: 10 })
      await selectInBlock(bob.page, 1)
      await bob.page.keyboard.type(' (Bob)', { delay: 10 })
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: fromServer })
      const final = await pmDoc(bob.page)
      expect(textOf(final.content![0]!)).toBe('Intro with bold words and more')
      expect(textOf(final)).toContain('(Bob)')
      expect(final.content![1]!.type).toBe('bullet_list')
      expect(ada.errors).toEqual([])
      expect(bob.errors).toEqual([])
    } finally {
      await Promise.all([ada.close(), bob.close()])
    }
  })
})
