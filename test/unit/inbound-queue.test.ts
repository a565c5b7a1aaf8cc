import { describe, expect, it } from 'vitest'
import { InboundQueue } from '../../src/transport/inbound-queue.js'

describe('InboundQueue', () => {
  it('runs synchronous handlers inline, in order', () => {
    const done: number[] = []
    const queue = new InboundQueue<number>(
      (item) => {
        done.push(item)
        return undefined
      },
      100,
      (error) => {
        throw error
      },
    )
    for (let i = 0; i < 5; i++) queue.push(i, 1)
    expect(done).toEqual([0, 1, 2, 3, 4])
    expect(queue.length).toBe(0)
  })

  it('holds later items behind a busy handler and keeps their order', async () => {
    const done: number[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const queue = new InboundQueue<number>(
      (item) => {
        if (item === 1) return gate.then(() => void done.push(item))
        done.push(item)
        return item === 3 ? Promise.resolve() : undefined
      },
      100,
      () => undefined,
    )
    for (let i = 0; i < 6; i++) queue.push(i, 1)
    expect(done).toEqual([0])
    expect(queue.length).toBe(4)
    release()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(done).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('refuses items past the byte bound while busy, and drops everything once stopped', async () => {
    const done: number[] = []
    const errors: unknown[] = []
    let release!: () => void
    const queue = new InboundQueue<number>(
      (item) => {
        done.push(item)
        if (item === 0) return new Promise<void>((resolve) => (release = resolve))
        if (item === 2) throw new Error('boom')
        return undefined
      },
      10,
      (error) => errors.push(error),
    )
    expect(queue.push(0, 1)).toBe(true)
    expect(queue.push(1, 6)).toBe(true)
    expect(queue.push(2, 4)).toBe(true)
    expect(queue.push(3, 1)).toBe(false)
    release()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(done).toEqual([0, 1, 2])
    expect(errors).toHaveLength(1)
    queue.stop()
    queue.push(4, 1)
    expect(done).toEqual([0, 1, 2])
  })

  it('pauses past the high-water mark once, and resumes under the low-water mark', async () => {
    const events: string[] = []
    const gates: (() => void)[] = []
    const queue = new InboundQueue<number>(
      (item) => {
        events.push(`run ${item}`)
        return new Promise<void>((resolve) => gates.push(resolve))
      },
      100,
      () => undefined,
      {
        pauseAboveBytes: 10,
        resumeBelowBytes: 5,
        pause: () => events.push('pause'),
        resume: () => events.push('resume'),
      },
    )
    queue.push(0, 1) // runs, busy
    queue.push(1, 6)
    queue.push(2, 6) // 12 waiting > 10: pause
    queue.push(3, 3) // 15: still paused, no second pause
    expect(events).toEqual(['run 0', 'pause'])
    expect(queue.isPaused).toBe(true)
    gates.shift()!()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(events).toEqual(['run 0', 'pause', 'run 1']) // 9 waiting: not under 5 yet
    gates.shift()!()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(events).toEqual(['run 0', 'pause', 'run 1', 'resume', 'run 2'])
    expect(queue.isPaused).toBe(false)
    expect(queue.bytes).toBe(3)
  })
})
