/**
 * The Redis key layout of the relay. Every key of one document shares one hash tag, so a
 * doc's stream, snapshot and lock live in one Redis Cluster slot (MULTI and Lua work on
 * them together). The tag holds the doc name in base64url, so `{` / `}` (or anything else)
 * inside a name can never end the tag early or make two names collide.
 *
 *   <prefix>:{<base64url(doc)>}:updates   stream: update / awareness / awareness-query entries
 *   <prefix>:{<base64url(doc)>}:snapshot  hash: data (merged update), lastId (last entry it
 *                                         covers), trimmed (MINID of the last trim), epoch
 *   <prefix>:{<base64url(doc)>}:lock      string: the instance compacting this doc (PX)
 *   <prefix>:{<base64url(doc)>}:gen       integer: deletion generation (INCR per DELETE; kept
 *                                         forever as the doc's tombstone, a few bytes)
 *   <prefix>:control                      stream: cluster-wide admin messages (revoke, evict)
 *
 * Redis Cluster only (sharded pub/sub channels, not keys; see notifyChannel):
 *   <prefix>:{<base64url(doc)>}:notify    doorbell: "entries were appended to this doc's stream"
 *   {<prefix>:control}:notify             doorbell of the control stream
 */

export interface DocKeys {
  readonly stream: string
  readonly snapshot: string
  readonly lock: string
  readonly generation: string
}

export function docKeys(prefix: string, docName: string): DocKeys {
  const tag = `${prefix}:{${Buffer.from(docName, 'utf8').toString('base64url')}}`
  return {
    stream: `${tag}:updates`,
    snapshot: `${tag}:snapshot`,
    lock: `${tag}:lock`,
    generation: `${tag}:gen`,
  }
}

export function controlKey(prefix: string): string {
  return `${prefix}:control`
}

/**
 * The doorbell channel of a stream (Redis Cluster mode): in the stream's own slot, so the
 * SPUBLISH goes to the node that just took the XADD and the subscription lives on the node
 * that owns the stream. A doc stream's key carries the doc's hash tag; the control key has
 * none, so its whole name becomes the tag (a key without a tag hashes its whole name).
 */
export function notifyChannel(streamKey: string): string {
  if (!streamKey.includes('{')) return `{${streamKey}}:notify`
  return `${streamKey.slice(0, streamKey.lastIndexOf(':'))}:notify`
}
