import { describe, expect, it } from 'vitest'
import { HistoryRecorder } from '../../src/history/history-recorder.js'
import { waitFor } from '../helpers/wait.js'

const client = { kind: 'client' } as const

describe('HistoryRecorder', () => {
  it('takes checkpoints that come due together one at a time', async () => {
    const taken: string[] = []
    let running = 0
    let most = 0
    const recorder: HistoryRecorder = new HistoryRecorder({
      intervalMs: 1,
      checkpoint: async (docName) => {
        running += 1
        most = Math.max(most, running)
        recorder.take(docName)
        // Other due checkpoints get their chance to start while this one waits.
        await new Promise((resolve) => setImmediate(resolve))
        taken.push(docName)
        running -= 1
      },
    })
    try {
      for (const docName of ['a', 'b', 'c', 'd']) recorder.noteChange(docName, client)
      await waitFor(() => taken.length === 4)
      expect(taken.sort()).toEqual(['a', 'b', 'c', 'd'])
      expect(most).toBe(1)
      expect(recorder.pendingDocs).toBe(0)
    } finally {
      recorder.close()
    }
  })

  it('skips a due doc whose checkpoint was taken on demand meanwhile', async () => {
    const taken: string[] = []
    let release: () => void = () => {}
    const recorder: HistoryRecorder = new HistoryRecorder({
      intervalMs: 1,
      checkpoint: async (docName) => {
        recorder.take(docName)
        taken.push(docName)
        if (docName === 'first') await new Promise<void>((resolve) => (release = resolve))
      },
    })
    try {
      recorder.noteChange('first', client)
      await waitFor(() => taken.length === 1)
      // 'second' comes due while 'first' runs, then is checkpointed on demand.
      recorder.noteChange('second', client)
      await waitFor(() => recorder.dueDocs === 1)
      expect(recorder.take('second')).toEqual(['anonymous'])
      release()
      recorder.noteChange('third', client)
      await waitFor(() => taken.length === 2)
      expect(taken).toEqual(['first', 'third'])
    } finally {
      recorder.close()
    }
  })
})
