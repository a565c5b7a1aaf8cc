/**
 * The hook surface of the library API (INTERFACE.md, "Library API"). Every hook is optional,
 * typed and awaited. A hook that throws is logged and counted and never crashes the server or
 * loses an update; only `onAuthenticate` may refuse (by throwing), which refuses the upgrade.
 *
 * Built-in features that react to documents (change webhooks, version history) are hook sets
 * of this same shape, composed with the user's hooks: one mechanism, not two.
 */
import type { IncomingMessage } from 'node:http'
import type * as Y from 'yjs'

/** Who a hook is about: whatever `onAuthenticate` returned, or `{ id: sub }` for a JWT. */
export interface HookUser {
  /** Stable identifier of the user (the JWT `sub` for built-in token auth). */
  readonly id: string
  readonly [key: string]: unknown
}

/**
 * Where a change came from. `client`: a WebSocket editor on this instance (`user` set when
 * known); `relay`: another instance of the cluster; `server`: a direct connection
 * (`openDirectConnection`); `api`: the admin document API or an import.
 */
export interface ChangeOrigin {
  readonly kind: 'client' | 'relay' | 'server' | 'api'
  readonly user?: HookUser
}

export interface AuthenticateContext {
  readonly docName: string
  readonly request: IncomingMessage
  /** The token the client sent (query, Authorization, cookie or subprotocol), if any. */
  readonly token: string | undefined
}

export interface AuthenticateResult {
  readonly user?: HookUser
  /** true: the connection receives the doc and awareness but its updates are never applied. */
  readonly readOnly?: boolean
}

export interface Hooks {
  /** Decide whether a connection may open `docName`; throw to refuse (401, or 403 if the error says so). */
  onAuthenticate?(
    context: AuthenticateContext,
  ): Promise<AuthenticateResult | undefined> | AuthenticateResult | undefined
  /**
   * A doc was loaded from storage (it may be empty): seed it here. Runs before any client syncs.
   * `doc` is a copy of the loaded doc: what the hook wrote to it joins the doc as one update
   * (origin `server`) when the hook returns; a throw fails the load and drops those writes.
   * Don't keep `doc`: later changes to it reach nobody.
   */
  onLoadDocument?(context: { readonly docName: string; readonly doc: Y.Doc }): Promise<void> | void
  /** An update was accepted into `docName` (as received; Yjs updates are idempotent). */
  onChange?(context: {
    readonly docName: string
    readonly update: Uint8Array
    readonly origin: ChangeOrigin
  }): Promise<void> | void
  /** A doc's changes are on disk (debounced); `state` is the doc encoded as one update. */
  onStoreDocument?(context: { readonly docName: string; readonly state: Uint8Array }): Promise<void> | void
  onConnect?(context: { readonly docName: string; readonly user: HookUser | undefined }): Promise<void> | void
  onDisconnect?(context: {
    readonly docName: string
    readonly user: HookUser | undefined
  }): Promise<void> | void
  /** A doc was deleted everywhere (admin API); `user` is who asked (`{ id: 'admin' }` for the admin token). */
  onDeleteDocument?(context: {
    readonly docName: string
    readonly user: HookUser | undefined
  }): Promise<void> | void
}
