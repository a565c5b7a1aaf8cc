/**
 * Who wrote a stream entry. INSTANCE_ID is a label for humans (logs, metrics, Redis connection
 * names) and need not be unique: two live instances may share it (the default
 * `<host name>-<port>` for two library servers on one host, or the same PORT behind two HOSTs).
 * Everything that tells "mine" from "theirs" in Redis uses the relay's nonce instead, random
 * for each relay: echo suppression of doc and control entries, the Cluster doorbell, the
 * compaction lock's owner, the removal of our late entries after a delete. Entries carry
 * both: `i` <label>, `n` <nonce> (stream-entry.ts). An entry without `n` was written by a
 * version from before nonces (a rolling upgrade): never ours, since ours always carry one.
 *
 * An entry with our label and another nonce means the label is shared: correctness does not
 * depend on it, but logs and metrics cannot tell the two apart, so that is said once.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from '../observability/logger.js'
import type { StreamEntry } from './stream-entry.js'

export class InstanceIdentity {
  private warned = false

  constructor(
    /** INSTANCE_ID. */
    readonly label: string,
    private readonly logger: Logger,
    /** Random per relay (16 hex digits). */
    readonly nonce: string = randomBytes(8).toString('hex'),
  ) {}

  /** true when this relay wrote the entry (warns once when another live writer shares our label). */
  isOwn(entry: Pick<StreamEntry, 'instanceId' | 'nonce'>): boolean {
    if (entry.nonce === this.nonce) return true
    if (entry.instanceId === this.label && !this.warned) {
      this.warned = true
      this.logger.warn(
        { instanceId: this.label, nonce: this.nonce, otherNonce: entry.nonce ?? null },
        `another live instance uses INSTANCE_ID "${this.label}" too: edits still converge, but logs and metrics cannot tell the two apart; give each instance its own INSTANCE_ID`,
      )
    }
    return false
  }
}
