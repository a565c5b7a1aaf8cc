/**
 * The rich-text example: plain ProseMirror bound to a Y.XmlFragment by y-prosemirror, with
 * collaborator carets from awareness, Yjs-aware undo (only this user's own edits) and a tiny
 * toolbar. `window.demo` exposes the pieces for debugging and for the browser tests.
 */
import { baseKeymap, chainCommands, toggleMark } from 'prosemirror-commands'
import { keymap } from 'prosemirror-keymap'
import { type Node as PmNode, Schema } from 'prosemirror-model'
import { schema as basicSchema } from 'prosemirror-schema-basic'
import { addListNodes, liftListItem, sinkListItem, splitListItem, wrapInList } from 'prosemirror-schema-list'
import { type Command, EditorState, Plugin, TextSelection } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import {
  redo,
  undo,
  yCursorPlugin,
  ySyncPlugin,
  ySyncPluginKey,
  yUndoPlugin,
  yUndoPluginKey,
} from 'y-prosemirror'
import { startSession } from './session.js'

const schema = new Schema({
  nodes: addListNodes(basicSchema.spec.nodes, 'paragraph block*', 'block'),
  marks: basicSchema.spec.marks,
})

const session = startSession()
// 'prosemirror' is y-prosemirror's conventional fragment name; other editors reading the
// same doc (e.g. a Tiptap page) find the content there.
const fragment = session.ydoc.getXmlFragment('prosemirror')

const undoCommand: Command = (state) => undo(state)
const redoCommand: Command = (state) => redo(state)
const bold = toggleMark(schema.marks.strong!)
const italic = toggleMark(schema.marks.em!)
const bulletList = wrapInList(schema.nodes.bullet_list!)
const orderedList = wrapInList(schema.nodes.ordered_list!)
const listItem = schema.nodes.list_item!

/**
 * ProseMirror drops "stored" marks (Ctrl+B with an empty selection, before typing) on any
 * document change, a collaborator's edit included, so bold would silently switch off whenever
 * someone else types between your Ctrl+B and your next key. Keep them across remote changes.
 */
const keepStoredMarksAcrossRemoteEdits = new Plugin({
  appendTransaction(transactions, oldState, newState) {
    const remote = transactions.some((tr) => {
      const meta = tr.getMeta(ySyncPluginKey) as
        | { isChangeOrigin?: boolean; isUndoRedoOperation?: boolean }
        | undefined
      return meta?.isChangeOrigin === true && !meta.isUndoRedoOperation
    })
    if (!remote || !oldState.storedMarks || newState.storedMarks || !newState.selection.empty) return null
    return newState.tr.setStoredMarks(oldState.storedMarks)
  },
})

const state = EditorState.create({
  schema,
  plugins: [
    ySyncPlugin(fragment),
    yCursorPlugin(session.provider.awareness),
    yUndoPlugin(),
    keepStoredMarksAcrossRemoteEdits,
    keymap({
      'Mod-z': undoCommand,
      'Mod-y': redoCommand,
      'Mod-Shift-z': redoCommand,
      'Mod-b': bold,
      'Mod-i': italic,
      'Shift-Ctrl-8': bulletList,
      'Shift-Ctrl-9': orderedList,
      Enter: chainCommands(splitListItem(listItem), baseKeymap.Enter!),
      Tab: sinkListItem(listItem),
      'Shift-Tab': liftListItem(listItem),
    }),
    keymap(baseKeymap),
  ],
})

const view = new EditorView(document.getElementById('editor')!, { state })

const toolbar: Record<string, Command> = {
  bold,
  italic,
  'bullet-list': bulletList,
  'ordered-list': orderedList,
  lift: liftListItem(listItem),
  undo: undoCommand,
  redo: redoCommand,
}
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-command]')) {
  const command = toolbar[button.dataset.command ?? '']
  if (!command) continue
  // mousedown + preventDefault keeps the editor focused (and the caret visible to others).
  button.addEventListener('mousedown', (event) => {
    event.preventDefault()
    command(view.state, view.dispatch, view)
    view.focus()
  })
}
view.focus()

window.demo = {
  ...session,
  fragment,
  view,
  undoManager: () => yUndoPluginKey.getState(view.state)?.undoManager,
  /**
   * Selects `text` inside the textblock with this index in document order, or puts the caret
   * at the block's end when `text` is omitted. One transaction, so it cannot race remote edits
   * the way a series of arrow-key presses can.
   */
  selectInBlock(index: number, text?: string): void {
    let seen = -1
    let block: { node: PmNode; pos: number } | undefined
    view.state.doc.descendants((node, pos) => {
      if (block) return false
      if (node.isTextblock && ++seen === index) block = { node, pos }
      return !block
    })
    if (!block) throw new Error(`no textblock ${index}`)
    const contentStart = block.pos + 1
    let from = contentStart + block.node.content.size
    let to = from
    if (text !== undefined) {
      const offset = block.node.textContent.indexOf(text)
      if (offset < 0) throw new Error(`"${text}" is not in textblock ${index}`)
      // textContent offsets equal positions inside a textblock of plain text nodes.
      from = contentStart + offset
      to = from + text.length
    }
    view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, from, to)))
    view.focus()
  },
}
