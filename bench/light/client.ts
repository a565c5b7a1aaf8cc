/**
 * A raw WebSocket client that speaks just enough of the sync protocol to join a room without a
 * Y.Doc: it sends sync step 1 with an empty state vector, answers the server's step 1 with an
 * empty step 2, and counts as synced on the server's step 2. Hocuspocus frames carry the doc
 * name and need an auth message first; the bare relay floor has no handshake at all.
 * Received updates are handed on as byte ranges; nothing is decoded beyond the envelope.
 */
import WebSocket from 'ws'
import type { LightProtocol } from './protocol.js'
import {
  hocuspocusAuth,
  readEnvelope,
  readStateVector,
  SYNC_STEP1,
  SYNC_STEP2,
  SYNC_UPDATE,
  scanUpdate,
  syncStep1Empty,
  syncStep2Empty,
} from './wire.js'

export type UpdateSink = (buf: Uint8Array, start: number, end: number) => void

export class LightClient {
  ws: WebSocket | undefined
  synced = false
  /** The server's state vector, from its sync step 1 (absent for the relay). */
  serverSv: Map<number, number> | undefined
  /**
   * Probes only: next clock per client over everything the server sent (its step 1, step 2
   * answers, updates). The reference server answers sync before its stored state has loaded
   * and broadcasts that state as an update once it has, so step 1 alone can read as empty.
   */
  seen: Map<number, number> | undefined
  /** Close code and reason of the last close, for error messages. */
  closedWith: string | undefined
  /** Sync step 2 answers received since connect. */
  step2Count = 0
  private readonly docName: string | undefined
  private waiters: Array<() => void> = []

  constructor(
    readonly url: string,
    readonly room: string,
    readonly protocol: LightProtocol,
    private readonly onUpdate: UpdateSink | undefined,
  ) {
    this.docName = protocol === 'hocuspocus' ? room : undefined
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** Opens the socket and resolves once synced (relay: once open). */
  connect(timeoutMs: number): Promise<void> {
    this.synced = false
    this.serverSv = undefined
    this.step2Count = 0
    const target = this.protocol === 'hocuspocus' ? this.url : `${this.url}/${encodeURIComponent(this.room)}`
    const ws = new WebSocket(target)
    ws.binaryType = 'nodebuffer'
    this.ws = ws
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.room}: not synced within ${timeoutMs} ms`))
        ws.terminate()
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        resolve()
      }
      // Every error, also after sync (a SIGKILLed server resets the socket): a no-op reject then.
      ws.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      ws.on('close', (code, reason) => {
        this.synced = false
        this.closedWith = `${code} ${String(reason)}`
      })
      ws.on('open', () => {
        if (this.protocol === 'relay') {
          this.synced = true
          done()
          return
        }
        this.waiters.push(done)
        if (this.docName !== undefined) ws.send(hocuspocusAuth(this.docName))
        ws.send(syncStep1Empty(this.docName))
      })
      ws.on('message', (data: Buffer) => this.receive(data))
    })
  }

  private receive(data: Buffer): void {
    const env = readEnvelope(data, this.docName !== undefined)
    if (!env) return
    if (env.syncType === SYNC_UPDATE) {
      this.onUpdate?.(data, env.payloadStart, env.payloadEnd)
      if (this.seen) this.note(data, env.payloadStart, env.payloadEnd)
    } else if (env.syncType === SYNC_STEP1) {
      if (this.protocol === 'relay') return
      this.serverSv = readStateVector(data, env.payloadStart, env.payloadEnd)
      if (this.seen)
        for (const [client, clock] of this.serverSv)
          if (clock > (this.seen.get(client) ?? 0)) this.seen.set(client, clock)
      this.ws?.send(syncStep2Empty(this.docName))
      this.settle()
    } else if (env.syncType === SYNC_STEP2) {
      if (this.seen) this.note(data, env.payloadStart, env.payloadEnd)
      this.step2Count += 1
      this.synced = true
      this.settle()
    }
  }

  private note(buf: Uint8Array, start: number, end: number): void {
    const seen = this.seen!
    scanUpdate(buf, start, end, (client, last) => {
      if (last + 1 > (seen.get(client) ?? 0)) seen.set(client, last + 1)
    })
  }

  /** Asks the server again for everything it holds (its answer is another sync step 2). */
  resync(): void {
    this.ws?.send(syncStep1Empty(this.docName))
  }

  /** Synced waiters resolve on step 2; probes also want the server's step 1 (see whenSv). */
  private settle(): void {
    if (!this.synced) return
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }

  send(msg: Uint8Array): void {
    this.ws?.send(msg)
  }

  /**
   * Sends and resolves once the frame is written to the socket (backpressure for big pushes).
   * If the server closed the socket, the error says with which code and reason.
   */
  sendAndFlush(msg: Uint8Array): Promise<void> {
    const ws = this.ws
    if (!ws) return Promise.reject(new Error('not connected'))
    return new Promise((resolve, reject) => {
      ws.send(msg, (err) => {
        if (!err) return resolve()
        const fail = (why: string): void => reject(new Error(`${this.room}: send failed (${why})`))
        if (ws.readyState === WebSocket.CLOSED)
          return fail(this.closedWith ? `the server closed the connection: ${this.closedWith}` : err.message)
        // The close frame has arrived but 'close' fires once the TCP side is done too.
        const timer = setTimeout(() => fail(err.message), 2000)
        ws.once('close', (code, reason) => {
          clearTimeout(timer)
          fail(`the server closed the connection: ${code} ${String(reason)}`)
        })
      })
    })
  }

  /**
   * Resolves once everything this client received covers `clock` of `client` (needs `seen`).
   * `resyncEveryMs` > 0: asks the server again that often, but only once the previous ask is
   * answered (a step 2 arrived since): with a 50 MB doc each answer is a 50 MB encode, and
   * asks queued every 2 s while the server is busy kept y-websocket-server encoding for minutes.
   */
  async whenSeen(client: number, clock: number, timeoutMs: number, resyncEveryMs = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let nextResync = Date.now() + resyncEveryMs
    let askedAt: number | undefined // step2Count when we last asked
    while ((this.seen?.get(client) ?? 0) < clock) {
      if (Date.now() > deadline)
        throw new Error(
          `${this.room}: holds ${this.seen?.get(client) ?? 0} of ${clock} after ${timeoutMs} ms`,
        )
      // A server that answers sync before loading its stored state broadcasts the state later;
      // asking again covers one that does not.
      const answered = askedAt === undefined || this.step2Count > askedAt
      if (resyncEveryMs > 0 && Date.now() >= nextResync && this.synced && answered) {
        askedAt = this.step2Count
        this.resync()
        nextResync = Date.now() + resyncEveryMs
      }
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  /** Closes the socket; resolves once it is closed. */
  close(): Promise<void> {
    const ws = this.ws
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      ws.once('close', () => resolve())
      ws.close()
      // A server that went away (SIGKILL) never answers the close handshake.
      setTimeout(() => ws.terminate(), 1000).unref()
    })
  }
}
