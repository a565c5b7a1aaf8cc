// Preloaded into the server by scripts/measure-paste.ts (`node --expose-gc --import this`):
// every $MEASURE_PASTE_EVERY_MS (100) appends one JSON line to $MEASURE_PASTE_FILE with the
// process's memory (process.memoryUsage(), VmHWM and RssAnon from /proc/self/status) and the
// V8 heap of every worker thread (read through the inspector's NodeWorker domain: Node 20 has
// no worker.getHeapStatistics()). On SIGUSR2: a full GC first, and the line is marked.
import { appendFileSync, readFileSync } from 'node:fs'
import { Session } from 'node:inspector'

const file = process.env.MEASURE_PASTE_FILE
if (file) {
  const every = Number(process.env.MEASURE_PASTE_EVERY_MS ?? 100)
  const session = new Session()
  session.connect()
  /** sessionId -> { title, used, total } of each worker, the latest answer. */
  const workers = new Map()
  let nextId = 1
  session.on('NodeWorker.attachedToWorker', ({ params }) => {
    workers.set(params.sessionId, {
      title: params.workerInfo.url || params.workerInfo.title,
      used: 0,
      total: 0,
    })
  })
  session.on('NodeWorker.detachedFromWorker', ({ params }) => workers.delete(params.sessionId))
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
    const message = JSON.parse(params.message)
    const worker = workers.get(params.sessionId)
    if (worker && message.result && 'usedSize' in message.result) {
      worker.used = message.result.usedSize
      worker.total = message.result.totalSize
    }
  })
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false })
  const kB = (status, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024
  const sample = (mark) => {
    const mem = process.memoryUsage()
    const status = readFileSync('/proc/self/status', 'utf8')
    const line = {
      t: Date.now(),
      pid: process.pid,
      rss: mem.rss,
      hwm: kB(status, 'VmHWM'),
      anon: kB(status, 'RssAnon'),
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      workers: [...workers.values()].map((w) => ({
        title: w.title.split('/').pop(),
        used: w.used,
        total: w.total,
      })),
      ...(mark ? { mark } : {}),
    }
    appendFileSync(file, `${JSON.stringify(line)}\n`)
    for (const id of workers.keys())
      session.post('NodeWorker.sendMessageToWorker', {
        sessionId: id,
        message: JSON.stringify({ id: nextId++, method: 'Runtime.getHeapUsage' }),
      })
  }
  // MEASURE_PASTE_GC=1: a full GC in every isolate before each sample (an experiment: how much
  // of the peak is garbage not yet collected).
  const gcEach = process.env.MEASURE_PASTE_GC === '1'
  setInterval(() => {
    if (gcEach) {
      globalThis.gc?.()
      for (const id of workers.keys())
        session.post('NodeWorker.sendMessageToWorker', {
          sessionId: id,
          message: JSON.stringify({ id: nextId++, method: 'HeapProfiler.collectGarbage' }),
        })
    }
    sample()
  }, every).unref()
  process.on('SIGUSR2', () => {
    globalThis.gc?.()
    sample('gc')
  })
}
