import { describe, expect, it } from 'vitest'
import { Heartbeat } from '../../src/transport/heartbeat.js'
import { waitFor } from '../helpers/wait.js'

describe('Heartbeat', () => {
  it('beats every connection once per sweep, 100 per macrotask', async () => {
    let beaten = 0
    let afterFirstSlice: number | undefined
    const connections = Array.from({ length: 250 }, (_, index) => ({
      beats: 0,
      heartbeat() {
        this.beats += 1
        beaten += 1
        // Runs when the macrotask that called this is done.
        if (index === 0 && afterFirstSlice === undefined) queueMicrotask(() => (afterFirstSlice = beaten))
      },
    }))
    const heartbeat = new Heartbeat(20, () => connections)
    try {
      await waitFor(() => connections.every((connection) => connection.beats >= 1), {
        what: 'every connection beaten',
      })
      expect(afterFirstSlice).toBe(100)
    } finally {
      heartbeat.stop()
    }
  })

  it('stops beating once stopped, even in the middle of a sweep', async () => {
    let beats = 0
    const connections = Array.from({ length: 300 }, () => ({
      heartbeat: () => {
        beats += 1
      },
    }))
    const heartbeat = new Heartbeat(5, () => connections)
    await waitFor(() => beats > 0, { what: 'a first beat' })
    heartbeat.stop()
    const atStop = beats
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(beats).toBe(atStop)
  })
})
