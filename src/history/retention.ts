/**
 * Which checkpoints of a doc to drop under HISTORY_KEEP. Pure.
 *
 * Rule: a checkpoint is kept while it is among the newest `keep` checkpoints, OR among the
 * newest `keep` labelled ones. So unlabelled checkpoints go oldest first, and a labelled one
 * (a named version, or the automatic backup taken before a restore) outlives up to `keep`
 * newer unlabelled ones and is only dropped once `keep` newer labelled ones exist. A doc
 * therefore holds at most 2 × keep checkpoints.
 */

export interface RetentionEntry {
  readonly id: string
  readonly label?: string | undefined
}

/** Ids to delete; `newestFirst` must be ordered newest first. `keep` ≥ 1. */
export function checkpointsToPrune(newestFirst: readonly RetentionEntry[], keep: number): string[] {
  const drop: string[] = []
  let labelled = 0
  newestFirst.forEach((entry, index) => {
    const isLabelled = entry.label !== undefined
    if (isLabelled) labelled += 1
    const keptAsRecent = index < keep
    const keptAsLabelled = isLabelled && labelled <= keep
    if (!keptAsRecent && !keptAsLabelled) drop.push(entry.id)
  })
  return drop
}
