/**
 * The server never authors a change of its own: Yjs's formatting cleanup (run after a remote
 * transaction that touched formatted text) deleted format items in the room's doc that no
 * client had deleted and nobody was sent. A client sending the same delete later was then
 * "nothing new" to the room and not fanned out, so the room's other clients missed it
 * (cluster.test "3 instances x 3 simulated editors": equal state vectors, one client missing
 * `<em>`). The scenario is the shortest one a model of room + clients found (src/storage/server-doc.ts).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectSynced, type TestClient } from '../helpers/clients.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const DOC = 'format-cleanup'

function textOf(doc: Y.Doc): Y.XmlText {
  return (doc.getXmlFragment('prosemirror').get(0) as Y.XmlElement).get(0) as Y.XmlText
}

/** Same structs, same deletes, same rendering. */
function sameState(a: Y.Doc, b: Y.Doc): boolean {
  return (
    Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b)) &&
    a.getXmlFragment('prosemirror').toString() === b.getXmlFragment('prosemirror').toString()
  )
}

describe('formatting cleanup', () => {
  it('the room holds exactly what its clients hold after concurrent formatting (no delete of its own)', async () => {
    const server = await startServer()
    const [c0, c1, c2] = [
      await connectSynced(server.url, DOC),
      await connectSynced(server.url, DOC),
      await connectSynced(server.url, DOC),
    ] as [TestClient, TestClient, TestClient]
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText()])
    c0.doc.getXmlFragment('prosemirror').insert(0, [paragraph])
    textOf(c0.doc).insert(0, 'abcdefghijklmnop')
    let step = 0
    const settle = async (clients: readonly TestClient[]) => {
      step += 1
      await waitFor(() => clients.every((client) => sameState(client.doc, clients[0]!.doc)), {
        what: `clients to converge (step ${step})`,
      })
    }
    await settle([c0, c1, c2])
    textOf(c1.doc).format(13, 1, { em: null })
    await settle([c0, c1, c2])
    textOf(c2.doc).format(1, 4, { strong: {} })
    await settle([c0, c1, c2])
    textOf(c2.doc).insert(12, 'xy2')
    await settle([c0, c1, c2])
    textOf(c1.doc).insert(18, 'xy3')
    await settle([c0, c1, c2])
    c1.provider.disconnect()
    textOf(c2.doc).format(6, 4, { strong: {} })
    await settle([c0, c2])
    textOf(c1.doc).delete(4, 2)
    textOf(c2.doc).format(3, 1, { em: null })
    await settle([c0, c2])
    textOf(c2.doc).delete(1, 2)
    await settle([c0, c2])
    textOf(c0.doc).format(10, 2, { em: {} })
    await settle([c0, c2])
    c1.provider.connect()
    await settle([c0, c1, c2])
    const room = server.app.registry.get(DOC)
    expect(room).toBeDefined()
    const roomDoc = room!.doc
    await waitFor(() => sameState(roomDoc, c0.doc), { what: 'the room to hold what its clients hold' })
    // A client joining now is sent exactly what the others hold.
    const late = await connectSynced(server.url, DOC)
    await settle([c0, c1, c2, late])
    expect(late.doc.getXmlFragment('prosemirror').toString()).toContain('<em>')
  })
})
