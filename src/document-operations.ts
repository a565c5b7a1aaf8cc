/**
 * The document API's operations for library users (INTERFACE.md "Document API" and "Version
 * history", issue 13: "the same operations through the library API"). Each is the HTTP route's
 * twin without HTTP: same validation, same cluster-wide effect, errors from the catalogue.
 */
import type { App } from './app.js'
import { docNameProblem } from './doc-name.js'
import { YwsError } from './errors.js'
import type { CheckpointMeta } from './history/checkpoint-store.js'
import type { HookUser } from './hooks.js'
import { validateUpdate } from './protocol/messages.js'

/** Document operations of a {@link CollabServer}; every method opens storage on first use. */
export interface DocumentOperations {
  /** The doc's full state as one Yjs update, from any instance of the cluster; undefined if none holds it. */
  getDocument(docName: string): Promise<Uint8Array | undefined>
  /**
   * Applies a Yjs update (origin kind `api`): broadcast, stored (on disk when this resolves)
   * and relayed. @throws YwsError YWS_ERR_BAD_UPDATE (nothing applied), YWS_ERR_DOC_NAME.
   */
  applyUpdate(docName: string, update: Uint8Array): Promise<void>
  /**
   * Deletes the doc on every instance (clients closed with 4404; `onDeleteDocument` hooks
   * and `document.deleted` webhooks name `user`, default `{ id: 'server' }`).
   * Resolves false when no part of the cluster held it (nothing changed).
   */
  deleteDocument(docName: string, user?: HookUser): Promise<boolean>
  /** Checkpoints of the doc kept on this instance, newest first. */
  listVersions(docName: string): Promise<readonly CheckpointMeta[]>
  /**
   * Takes a checkpoint now. @throws NoSuchDocError (YWS_ERR_NOT_FOUND) when the doc is
   * unknown, BadLabelError (YWS_ERR_BAD_LABEL) for a bad label.
   */
  createVersion(docName: string, options?: { label?: string }): Promise<{ id: string }>
  /** A checkpoint's state as one Yjs update; undefined for an unknown id. */
  getVersion(docName: string, id: string): Promise<Uint8Array | undefined>
  /**
   * Makes the doc's content the version's, as a new change seen by every editor on every
   * instance, after a backup checkpoint. @throws NoSuchVersionError (YWS_ERR_NOT_FOUND).
   */
  restoreVersion(docName: string, id: string): Promise<{ restored: string; backup: string }>
}

/** Builds the operations over a composed app (see app.ts). */
export function documentOperations(app: App): DocumentOperations {
  const ready = async (docName: string): Promise<void> => {
    const problem = typeof docName === 'string' ? docNameProblem(docName) : 'document name must be a string'
    if (problem) throw new YwsError('YWS_ERR_DOC_NAME', problem)
    await app.open()
  }
  return {
    async getDocument(docName) {
      await ready(docName)
      return app.documents.read(docName)
    },
    async applyUpdate(docName, update) {
      await ready(docName)
      const problem = update instanceof Uint8Array ? validateUpdate(update) : 'update must be a Uint8Array'
      if (problem) throw new YwsError('YWS_ERR_BAD_UPDATE', problem)
      await app.documents.applyUpdate(docName, update)
    },
    async deleteDocument(docName, user = { id: 'server' }) {
      await ready(docName)
      return (await app.documents.delete(docName, user)) !== undefined
    },
    async listVersions(docName) {
      await ready(docName)
      return app.history.list(docName)
    },
    async createVersion(docName, options = {}) {
      await ready(docName)
      const meta = await app.history.checkpoint(docName, { label: options.label })
      return { id: meta.id }
    },
    async getVersion(docName, id) {
      await ready(docName)
      return (await app.history.version(docName, id))?.state
    },
    async restoreVersion(docName, id) {
      await ready(docName)
      return app.history.restore(docName, id)
    },
  }
}
