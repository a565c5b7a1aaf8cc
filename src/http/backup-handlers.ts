/**
 * Online backup over HTTP: `GET /admin/export` streams every doc this instance stores as
 * NDJSON (ndjson.ts), `POST /admin/import` merges such a stream into the docs.
 *
 * Export pages through the store (PAGE_DOCS names per short-lived LevelDB iterator, so a
 * long export never pins one LevelDB snapshot) and writes one line at a time, waiting for
 * 'drain' when the socket's buffer is full: memory stays at about one doc whatever the store
 * size or the reader's speed. A doc's line is its full state as `DocumentService.read` sees it
 * (open room, or LevelDB merged with the cluster's Redis state).
 *
 * Import reads the body as a stream (never buffered whole), one line at a time, and applies
 * each doc through its room, so editors on every instance see the merge; the store is flushed
 * once at the end (and on a stop) before the answer is sent.
 */
import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type BackupDoc,
  DocRefusedError,
  encodeBackupLine,
  ImportStoppedError,
  importBackup,
  maxImportLineBytes,
  readAhead,
  storedDocNames,
} from '../document/backup-format.js'
import type { DocumentService } from '../document/document-service.js'
import type { Logger } from '../observability/logger.js'
import { DocumentTooLargeError } from '../room/room.js'
import type { DocStore } from '../storage/doc-store.js'
import { sendJson } from './http-routes.js'

export interface DocumentBackupDeps {
  readonly documents: DocumentService
  readonly store: DocStore
  readonly logger: Logger
  readonly maxDocBytes: number
}

export class DocumentBackup {
  constructor(private readonly deps: DocumentBackupDeps) {}

  /** Streams the export; stops early (quietly) if the reader goes away. */
  async exportTo(
    response: ServerResponse,
    request: IncomingMessage,
    prefix: string | undefined,
  ): Promise<void> {
    response.writeHead(200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Cache-Control': 'no-store',
    })
    let gone = false
    const onGone = () => {
      gone = true
    }
    request.socket.once('close', onGone)
    let docs = 0
    let bytes = 0
    try {
      const read = async (name: string) => ({ name, update: await this.deps.documents.read(name) })
      for await (const { name, update } of readAhead(storedDocNames(this.deps.store, prefix), read)) {
        if (gone) break
        if (!update) continue // deleted since it was listed
        const line = encodeBackupLine({ name, update })
        docs += 1
        bytes += line.length
        if (!response.write(line))
          await Promise.race([once(response, 'drain'), once(request.socket, 'close')])
      }
    } finally {
      request.socket.off('close', onGone)
    }
    response.end()
    this.deps.logger.info({ docs, bytes, complete: !gone }, 'export streamed')
  }

  /** Imports the body; answers `{ imported }`, or 400 with `{ error, line, imported }` at a bad line. */
  async importFrom(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const apply = async (doc: BackupDoc) => {
      try {
        await this.deps.documents.applyUpdate(doc.name, doc.update, { flush: false })
      } catch (error) {
        if (error instanceof DocumentTooLargeError) throw new DocRefusedError(error.message)
        throw error
      }
    }
    let imported: number
    try {
      // Not destroyed when the import stops early: the rest is drained so the 400 arrives.
      const body = request.iterator({ destroyOnReturn: false })
      imported = await importBackup(body, {
        maxLineBytes: maxImportLineBytes(this.deps.maxDocBytes),
        apply,
      })
    } catch (error) {
      await this.deps.store.flush()
      if (!(error instanceof ImportStoppedError)) throw error
      // The rest of the body is read and dropped, so the client gets the answer rather than a reset.
      request.resume()
      this.deps.logger.warn(
        { line: error.line, imported: error.imported, reason: error.reason },
        'import stopped',
      )
      response.setHeader('Connection', 'close')
      const body = {
        error: `line ${error.line}: ${error.reason}`,
        line: error.line,
        imported: error.imported,
      }
      return sendJson(response, 400, body)
    }
    await this.deps.store.flush()
    this.deps.logger.info({ imported }, 'import finished')
    sendJson(response, 200, { imported })
  }
}
