/**
 * Real editors in headless Chromium against real server processes: ProseMirror (y-prosemirror)
 * and CodeMirror (y-codemirror.next) pages with the stock y-websocket provider. Pages of
 * different users live in separate browser contexts and, when cluster mode is available, on
 * different instances.
 */
import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { StaticServer } from '../../scripts/editor-page.js'
import {
  type DemoWindow,
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
import { waitFor } from '../helpers/wait.js'

const OUTPUT_DIR = 'test-output'

// Started at collection time so test names can say which topology really runs.
const topology: Topology = await startTopology()
console.info(`browser tests run on ${topology.label}`)

let browser: Browser
let pages: StaticServer

beforeAll(async () => {
  ;[browser, pages] = await Promise.all([
    launchChromium(),
    serveEditorPages(),
    mkdir(OUTPUT_DIR, { recursive: true }),
  ])
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await pages?.close()
  await topology.close()
}, 30_000)

const ADA = { name: 'Ada', color: '#d7263d' }
const BOB = { name: 'Bob', color: '#3066be' }

/** Ada on instance 0, Bob on instance 1 (the same instance when not clustered). */
async function openPair(doc: string, file = 'index.html'): Promise<[EditorPage, EditorPage]> {
  const pair = await Promise.all([
    openEditor(browser, pages.url, { server: topology.url(0), doc, file, ...ADA }),
    openEditor(browser, pages.url, { server: topology.url(1), doc, file, ...BOB }),
  ])
  for (const editor of pair) {
    // Closing the context is the test's teardown even when an assertion failed.
    afterCurrentTest(() => editor.close())
  }
  return pair
}

const teardowns: (() => Promise<void>)[] = []
function afterCurrentTest(teardown: () => Promise<void>): void {
  teardowns.push(teardown)
}
async function runTeardowns(): Promise<void> {
  await Promise.all(teardowns.splice(0).map((teardown) => teardown()))
}

/** Seeds a doc from Node with one paragraph per line, so neither page owns that text for undo. */
async function seedParagraphs(doc: string, lines: string[]): Promise<Y.Doc> {
  const client = await connectSynced(topology.url(0), doc)
  const fragment = client.doc.getXmlFragment('prosemirror')
  fragment.insert(
    0,
    lines.map((line) => {
      const paragraph = new Y.XmlElement('paragraph')
      paragraph.insert(0, [new Y.XmlText(line)])
      return paragraph
    }),
  )
  return client.doc
}

interface PmNode {
  type: string
  text?: string
  marks?: { type: string }[]
  content?: PmNode[]
}

function textOf(node: PmNode): string {
  return node.text ?? (node.content ?? []).map(textOf).join('')
}

function pmDoc(page: Page): Promise<PmNode> {
  return page.evaluate(() => (globalThis as unknown as DemoWindow).demo.view.state.doc.toJSON() as PmNode)
}

function undoDepth(page: Page): Promise<{ undo: number; redo: number }> {
  return page.evaluate(() => {
    const manager = (globalThis as unknown as DemoWindow).demo.undoManager()
    return { undo: manager.undoStack.length, redo: manager.redoStack.length }
  })
}

/** Puts the caret at the end of block `index`, or selects `text` in it. */
function selectInBlock(page: Page, index: number, text?: string): Promise<void> {
  return page.evaluate(([i, t]) => (globalThis as unknown as DemoWindow).demo.selectInBlock(i, t), [
    index,
    text,
  ] as const)
}

describe(`browser editors on ${topology.label}`, () => {
  it('two users type concurrently with bold, lists and undo, and converge', { timeout: 60_000 }, async () => {
    try {
      const doc = `rich-${randomUUID()}`
      const server = await seedParagraphs(doc, ['Ada writes:', 'Bob writes:'])
      const [ada, bob] = await openPair(doc)
      await Promise.all([selectInBlock(ada.page, 0), selectInBlock(bob.page, 1)])

      // Both type at the same time, keystroke by keystroke, in different blocks.
      await Promise.all([
        (async () => {
          await ada.page.keyboard.type(' plain bold words tail', { delay: 15 })
          // Bold by selecting the words, not by toggling before typing: ProseMirror drops a
          // toggled ("stored") mark when any other transaction — here Bob's remote edit —
          // lands between Ctrl+B and the next keystroke.
          // Close Ada's current undo group, as a pause in typing would, so that her last edit
          // is the formatting alone.
          await ada.page.evaluate(() =>
            (globalThis as unknown as DemoWindow).demo.undoManager().stopCapturing(),
          )
          await selectInBlock(ada.page, 0, 'bold words')
          await ada.page.keyboard.press('Control+b')
        })(),
        (async () => {
          await bob.page.keyboard.press('Enter')
          await bob.page.click('[data-command="bullet-list"]')
          await bob.page.keyboard.type('item one', { delay: 15 })
          await bob.page.keyboard.press('Enter')
          await bob.page.keyboard.type('item two', { delay: 15 })
        })(),
      ])
      const serverXml = () => server.getXmlFragment('prosemirror').toString()
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: serverXml })

      const merged = await pmDoc(bob.page)
      const [first, second, list] = merged.content!
      expect(textOf(first!)).toBe('Ada writes: plain bold words tail')
      expect(first!.content!.find((node) => node.marks?.some((mark) => mark.type === 'strong'))?.text).toBe(
        'bold words',
      )
      expect(textOf(second!)).toBe('Bob writes:')
      expect(list!.type).toBe('bullet_list')
      expect(list!.content!.map(textOf)).toEqual(['item one', 'item two'])

      await saveSideBySide(browser, [ada.page, bob.page], `${OUTPUT_DIR}/rich-text-converged.png`)

      // Undo promises: each step removes only Ada's own latest edit, never Bob's text. Remote
      // edits landing mid-word may split her typing into several groups, so the number of
      // steps varies; we undo until her stack is empty and check Bob's text after every step.
      const bobsList = JSON.stringify(list)
      const before = await undoDepth(ada.page)
      expect(before.undo).toBeGreaterThan(0)
      let steps = 0
      for (let depth = before.undo; depth > 0; depth--) {
        const adaBlock = (await pmDoc(ada.page)).content![0]!
        const adaText = textOf(adaBlock)
        await ada.page.keyboard.press('Control+z')
        await ada.page.waitForFunction(
          (expected) =>
            (globalThis as unknown as DemoWindow).demo.undoManager().undoStack.length === expected,
          depth - 1,
        )
        steps++
        const after = await pmDoc(ada.page)
        const afterText = textOf(after.content![0]!)
        // A step removes some of Ada's typing (the tail of it) or her bold formatting.
        expect(JSON.stringify(after.content![0])).not.toBe(JSON.stringify(adaBlock))
        expect(adaText.startsWith(afterText)).toBe(true)
        expect(JSON.stringify(after.content![2])).toBe(bobsList)
        if (steps === 1) {
          // Her last edit was the bold: the first undo removes exactly that.
          expect(afterText).toBe(adaText)
          expect(after.content![0]!.content!.some((node) => node.marks)).toBe(false)
        }
      }
      console.info(`Ada's edits took ${steps} undo steps`)
      expect(steps).toBeGreaterThanOrEqual(2)
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: serverXml })
      const settled = await pmDoc(bob.page)
      expect(textOf(settled.content![0]!)).toBe('Ada writes:')
      expect(settled.content![0]!.content!.some((node) => node.marks)).toBe(false)
      expect(JSON.stringify(settled.content![2])).toBe(bobsList)
      expect(settled.content!.length).toBe(3)

      // Redo brings Ada's text back, bold included.
      for (let depth = 0; depth < steps; depth++) {
        await ada.page.keyboard.press('Control+Shift+z')
        await ada.page.waitForFunction(
          (expected) =>
            (globalThis as unknown as DemoWindow).demo.undoManager().redoStack.length === expected,
          steps - depth - 1,
        )
      }
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: serverXml })
      expect(await pmDoc(ada.page)).toEqual(merged)
    } finally {
      await runTeardowns()
    }
  })

  it("shows a collaborator's named caret and removes it when that page closes", {
    timeout: 30_000,
  }, async () => {
    try {
      const doc = `caret-${randomUUID()}`
      await seedParagraphs(doc, ['Where is everyone?'])
      const [ada, bob] = await openPair(doc)
      await selectInBlock(bob.page, 0)

      const caret = ada.page.locator('.ProseMirror-yjs-cursor', { hasText: 'Bob' })
      await caret.waitFor({ state: 'visible' })
      expect(await caret.getAttribute('style')).toContain(BOB.color)
      await ada.page.locator('#users li', { hasText: 'Bob' }).waitFor()

      // Bob types: his text arrives and his caret stays in Ada's editor while he is here.
      await bob.page.keyboard.type(' Bob is here.')
      await ada.page.locator('.ProseMirror', { hasText: 'Bob is here.' }).waitFor()
      await caret.waitFor({ state: 'visible' })

      await bob.close()
      // The server drops the closed connection's awareness and tells the others.
      await caret.waitFor({ state: 'detached' })
      await ada.page.locator('#users li', { hasText: 'Bob' }).waitFor({ state: 'detached' })
      expect(await ada.page.locator('#users li').allInnerTexts()).toEqual(['Ada (you)'])
    } finally {
      await runTeardowns()
    }
  })

  it("keeps a bold toggle when a collaborator's edit lands before the next keystroke", {
    timeout: 30_000,
  }, async () => {
    try {
      const doc = `stored-marks-${randomUUID()}`
      await seedParagraphs(doc, ['Ada:', 'Bob:'])
      const [ada, bob] = await openPair(doc)
      await Promise.all([selectInBlock(ada.page, 0), selectInBlock(bob.page, 1)])
      await ada.page.keyboard.press('Control+b')
      await bob.page.keyboard.type(' hello')
      await ada.page.locator('.ProseMirror', { hasText: 'Bob: hello' }).waitFor()
      await ada.page.keyboard.type(' loud')
      await waitForEditorsToConverge([ada.page, bob.page])
      const adaBlock = (await pmDoc(bob.page)).content![0]!.content!
      expect(adaBlock.find((node) => node.marks?.some((mark) => mark.type === 'strong'))?.text).toBe(' loud')
    } finally {
      await runTeardowns()
    }
  })

  it('an editor that goes offline keeps editing and merges when it comes back', {
    timeout: 30_000,
  }, async () => {
    try {
      const doc = `offline-${randomUUID()}`
      const server = await seedParagraphs(doc, ['Ada:', 'Bob:'])
      const [ada, bob] = await openPair(doc)

      // Playwright's context.setOffline() does not close localhost WebSockets (Chromium only
      // holds their frames and the provider still says "connected"), so we cut the
      // connection the way a dropped network looks to the provider: it disconnects.
      await ada.page.evaluate(() => (globalThis as unknown as DemoWindow).demo.provider.disconnect())
      await waitForStatus(ada.page, 'disconnected')

      await Promise.all([selectInBlock(ada.page, 0), selectInBlock(bob.page, 1)])
      await Promise.all([
        ada.page.keyboard.type(' written offline', { delay: 10 }),
        bob.page.keyboard.type(' written online', { delay: 10 }),
      ])
      // Bob's edit reaches the server; Ada's cannot until she reconnects.
      const serverXml = () => server.getXmlFragment('prosemirror').toString()
      await waitFor(() => serverXml().includes('written online'), { what: "Bob's edit to reach the server" })
      expect(serverXml()).not.toContain('written offline')
      expect(await bob.page.locator('.ProseMirror').textContent()).not.toContain('written offline')

      await ada.page.evaluate(() => (globalThis as unknown as DemoWindow).demo.provider.connect())
      await waitForStatus(ada.page, 'connected', true)
      await waitForEditorsToConverge([ada.page, bob.page], { expectedYjs: serverXml })
      const merged = await pmDoc(ada.page)
      expect(merged.content!.map(textOf)).toEqual(['Ada: written offline', 'Bob: written online'])
    } finally {
      await runTeardowns()
    }
  })

  it('CodeMirror pages on the same server converge too (the server is editor-agnostic)', {
    timeout: 30_000,
  }, async () => {
    try {
      const doc = `code-${randomUUID()}`
      const [ada, bob] = await openPair(doc, 'code.html')
      await ada.page.click('.cm-content')
      await ada.page.keyboard.type('const a = 1\n', { delay: 10 })
      await waitForEditorsToConverge([ada.page, bob.page])
      await bob.page.click('.cm-content')
      await bob.page.keyboard.press('Control+Home')
      // Concurrent typing at both ends of the text: the merge is exact, not just "contains".
      await Promise.all([
        ada.page.keyboard.type('// from Ada', { delay: 10 }),
        bob.page.keyboard.type('// Bob was here\n', { delay: 10 }),
      ])
      const merged = await waitForEditorsToConverge([ada.page, bob.page])
      expect(merged.yjs).toBe('// Bob was here\nconst a = 1\n// from Ada')
      expect(merged.editor).toBe(merged.yjs)
      // y-codemirror.next shows the collaborator's caret with the name from awareness.
      await ada.page.locator('.cm-ySelectionInfo', { hasText: 'Bob' }).waitFor({ state: 'attached' })
      await saveSideBySide(browser, [ada.page, bob.page], `${OUTPUT_DIR}/code-converged.png`)
    } finally {
      await runTeardowns()
    }
  })
})
