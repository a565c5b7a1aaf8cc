import { describe, expect, it } from 'vitest'
import { checkpointsToPrune } from '../../src/history/retention.js'

/** Newest first: ids n..1, labelled where `labelled` says. */
function entries(count: number, labelled: number[] = []) {
  return Array.from({ length: count }, (_, i) => {
    const id = String(count - i)
    return labelled.includes(count - i) ? { id, label: `v${id}` } : { id }
  })
}

describe('checkpointsToPrune', () => {
  it('keeps the newest `keep` and drops the oldest first', () => {
    expect(checkpointsToPrune(entries(5), 3)).toEqual(['2', '1'])
    expect(checkpointsToPrune(entries(3), 3)).toEqual([])
  })

  it('a labelled checkpoint outlives newer unlabelled ones', () => {
    expect(checkpointsToPrune(entries(6, [1]), 2)).toEqual(['4', '3', '2'])
  })

  it('labelled ones go oldest first once `keep` newer labelled ones exist: at most 2 × keep in all', () => {
    const all = entries(10, [1, 2, 3, 4])
    const drop = checkpointsToPrune(all, 2)
    expect(drop).toEqual(['8', '7', '6', '5', '2', '1'])
    expect(all.length - drop.length).toBeLessThanOrEqual(4)
  })
})
