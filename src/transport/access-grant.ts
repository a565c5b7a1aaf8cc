/**
 * What the HTTP upgrade granted one connection: written by the authorizer (JWT) and the
 * `onAuthenticate` hook, read by the Connection for its whole life.
 */
import type { HookUser } from '../hooks.js'

export interface AccessGrant {
  /** true: the connection receives the doc and awareness, but its updates are never applied. */
  readonly readOnly: boolean
  /** Unix ms when the token expires; the connection is closed (4001) then. */
  readonly expiresAt?: number | undefined
  /** The token's `sub`, for revocation and logs. */
  readonly subject?: string | undefined
  /** Who this is, for hooks: what `onAuthenticate` returned, else `{ id: sub }` for a JWT. */
  readonly user?: HookUser | undefined
}
