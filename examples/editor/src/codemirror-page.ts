/**
 * The code example: CodeMirror 6 bound to a Y.Text by y-codemirror.next, on the same server
 * and protocol as the rich-text page — the server never looks inside documents.
 */
import { basicSetup, EditorView } from 'codemirror'
import { yCollab } from 'y-codemirror.next'
import * as Y from 'yjs'
import { startSession } from './session.js'

const session = startSession()
const ytext = session.ydoc.getText('codemirror')
const undoManager = new Y.UndoManager(ytext)

const view = new EditorView({
  doc: ytext.toString(),
  extensions: [basicSetup, yCollab(ytext, session.provider.awareness, { undoManager })],
  parent: document.getElementById('editor')!,
})
view.focus()

window.demo = { ...session, ytext, view, undoManager }
