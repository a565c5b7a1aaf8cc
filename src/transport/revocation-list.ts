/**
 * Operator revocations on this instance: "tokens for doc D" or "tokens of user S" issued
 * at or before a moment are refused from then on. Closing the open sockets alone would be
 * useless — y-websocket reconnects at once with the same, still valid token — so the
 * gateway asks this list before it accepts a token. A token issued after the revocation
 * (a fresh `iat`) works again, which is how a client regains access.
 *
 * Entries are kept for `ttlMs` (REVOCATION_TTL_MS): issue tokens that live shorter than
 * that, or a revoked token outlives its entry. Memory is bounded by the number of admin
 * calls within the TTL, and by `maxEntries` as a backstop (the oldest entry goes first).
 */

export interface RevocationTarget {
  readonly doc?: string | undefined
  readonly sub?: string | undefined
}

export interface RevocationListOptions {
  readonly ttlMs: number
  readonly maxEntries?: number
  readonly now?: () => number
}

export class RevocationList {
  /** key -> unix ms of the latest revocation; Map order = insertion order = oldest first. */
  private readonly entries = new Map<string, number>()
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor(options: RevocationListOptions) {
    this.ttlMs = options.ttlMs
    this.maxEntries = options.maxEntries ?? 100_000
    this.now = options.now ?? Date.now
  }

  get size(): number {
    this.prune()
    return this.entries.size
  }

  revoke(target: RevocationTarget): void {
    const at = this.now()
    for (const key of keysOf(target)) {
      // Re-insert so the Map stays ordered by revocation time (pruning relies on it).
      this.entries.delete(key)
      this.entries.set(key, at)
    }
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
  }

  /**
   * Whether a token for `doc` with subject `sub`, issued at `issuedAtSeconds` (JWT `iat`;
   * undefined when absent), was revoked. A token without `iat` cannot prove it is newer,
   * so it counts as revoked while an entry applies.
   */
  isRevoked(doc: string, sub: string | undefined, issuedAtSeconds: number | undefined): boolean {
    this.prune()
    for (const key of keysOf({ doc, sub })) {
      const revokedAt = this.entries.get(key)
      if (revokedAt === undefined) continue
      // `iat` has one-second resolution: a token issued in the revocation's second is
      // treated as issued before it (refusing a fresh token briefly beats admitting an old one).
      if (
        issuedAtSeconds === undefined ||
        issuedAtSeconds * 1000 < Math.floor(revokedAt / 1000) * 1000 + 1000
      ) {
        return true
      }
    }
    return false
  }

  private prune(): void {
    const cutoff = this.now() - this.ttlMs
    for (const [key, at] of this.entries) {
      if (at > cutoff) break
      this.entries.delete(key)
    }
  }
}

function keysOf(target: RevocationTarget): string[] {
  const keys: string[] = []
  // Distinct prefixes keep a doc named like a user id from matching that user.
  if (target.doc !== undefined) keys.push(`doc:${target.doc}`)
  if (target.sub !== undefined) keys.push(`sub:${target.sub}`)
  return keys
}
