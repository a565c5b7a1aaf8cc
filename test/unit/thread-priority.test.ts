/**
 * Worker threads run below the event loop's CPU priority on Linux (workers/thread-priority.ts):
 * the big-doc worker and the pool's threads take a shared core only when the event loop does
 * not need it. Read from /proc: the nice value of each of this process's threads.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { BigDocHost } from '../../src/workers/big-doc-host.js'
import { PER_THREAD_NICE, WORKER_NICE_INCREMENT } from '../../src/workers/thread-priority.js'
import { WorkerPool } from '../../src/workers/worker-pool.js'

/** Nice value of every thread of this process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[16])
  })
}

const mainNice = (): number => {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}

describe.runIf(PER_THREAD_NICE)('worker thread priority', () => {
  let host: BigDocHost | undefined
  let pool: WorkerPool | undefined
  afterEach(async () => {
    await host?.shutdown()
    await pool?.close()
    host = undefined
    pool = undefined
  })

  it('the big-doc worker runs WORKER_NICE_INCREMENT below the event loop, which keeps its own', async () => {
    const before = mainNice()
    const lowered = Math.min(19, before + WORKER_NICE_INCREMENT)
    const count = threadNices().filter((nice) => nice === lowered).length
    host = new BigDocHost(60_000)
    await host.open('doc', [new Uint8Array([0, 0])])
    expect(threadNices().filter((nice) => nice === lowered).length).toBe(count + 1)
    expect(mainNice()).toBe(before)
  }, 60_000)

  it('so do the pool’s threads', async () => {
    const before = mainNice()
    const lowered = Math.min(19, before + WORKER_NICE_INCREMENT)
    const count = threadNices().filter((nice) => nice === lowered).length
    pool = new WorkerPool()
    const verdict = await pool.validateMessage(new Uint8Array([0, 2, 2, 0, 0]))
    expect(verdict.ok).toBe(true)
    expect(threadNices().filter((nice) => nice === lowered).length).toBeGreaterThan(count)
    expect(mainNice()).toBe(before)
  }, 60_000)
})
