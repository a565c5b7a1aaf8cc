/**
 * Pure Yjs helper: does a diff add anything to a base state? A state-vector diff always
 * carries the sender's whole delete set, so "no new structs" is not enough to skip it: a
 * deletion made while Redis was away adds no struct. Used to avoid re-publishing a doc's
 * full delete set on every join while never skipping a real difference.
 */
import * as Y from 'yjs'

interface Range {
  clock: number
  len: number
}

export function updateAddsTo(base: Uint8Array, diff: Uint8Array): boolean {
  const added = Y.decodeUpdate(diff)
  if (added.structs.length > 0) return true
  if (added.ds.clients.size === 0) return false
  const have = Y.decodeUpdate(base).ds.clients as Map<number, Range[]>
  for (const [client, ranges] of added.ds.clients as Map<number, Range[]>) {
    const covered = [...(have.get(client) ?? [])].sort((a, b) => a.clock - b.clock)
    for (const range of ranges) if (!isCovered(covered, range.clock, range.clock + range.len)) return true
  }
  return false
}

function isCovered(sorted: readonly Range[], start: number, end: number): boolean {
  let reached = start
  for (const range of sorted) {
    if (range.clock > reached) break
    reached = Math.max(reached, range.clock + range.len)
    if (reached >= end) return true
  }
  return reached >= end
}
