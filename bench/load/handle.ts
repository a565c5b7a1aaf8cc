/** Harness-side handle on a load-generator worker process: typed request/reply over IPC. */
import { fileURLToPath } from 'node:url'
import { type Spawned, spawnTracked, stopProcess } from '../proc.js'
import type { Methods, Reply } from './protocol.js'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')

/** Method name -> [params, result] of a worker's IPC interface. */
type MethodTable<T> = { [K in keyof T]: [unknown, unknown] }

export class LoadGen<T extends MethodTable<T> = Methods> {
  private nextId = 1
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private readonly proc: Spawned
  /** Called when the worker opens / closes a measured window. */
  onEvent: (event: 'measure-start' | 'measure-end') => void = () => {}

  /** `worker`: the script to run (default: the Yjs generator, bench/load/worker.ts). */
  constructor(cpu: number | undefined, worker = WORKER) {
    this.proc = spawnTracked(process.execPath, ['--max-old-space-size=4096', '--import', TSX, worker], {
      cpu,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    this.proc.child.on('message', (raw: unknown) => {
      const msg = raw as Reply
      if ('event' in msg) {
        this.onEvent(msg.event)
        return
      }
      const p = this.pending.get(msg.id)
      if (!p) return
      this.pending.delete(msg.id)
      if ('error' in msg) p.reject(new Error(msg.error))
      else p.resolve(msg.result)
    })
    void this.proc.exited.then((code) => {
      for (const p of this.pending.values())
        p.reject(new Error(`load generator exited (${code})\n${this.proc.tail()}`))
      this.pending.clear()
    })
  }

  get pid(): number {
    return this.proc.child.pid ?? -1
  }

  /** Calls `method` in the worker; rejects after `timeoutMs` (the worker is then useless: stop it). */
  call<M extends keyof T & string>(method: M, params: T[M][0], timeoutMs: number): Promise<T[M][1]> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`load generator: ${method} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v as T[M][1])
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.proc.child.send({ id, method, params })
    })
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc, 3000)
  }
}
