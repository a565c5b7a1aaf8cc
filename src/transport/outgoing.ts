/**
 * A connection's sending side: the send budget (MAX_BUFFERED_BYTES), frames built once per
 * fan-out and written past ws, coalesced per socket per tick (ws-frames.ts), and the paced
 * first sync. Frames ws writes itself (ping, close, paced pieces through ws.send) are
 * preceded by a `flush()`, so everything leaves in the order it was sent.
 */
import type { WebSocket } from 'ws'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { OutgoingType } from '../room/room.js'
import { binaryFrame, FrameOutbox, rawSocketOf } from './ws-frames.js'

const BINARY = { binary: true } as const

export class Outgoing {
  /** Undefined when ws cannot be written past (see rawSocketOf): then every frame goes through ws.send. */
  private readonly outbox: FrameOutbox | undefined
  private stopped = false
  /**
   * Messages waiting for the previous paced one to leave (the rest of a first sync), as
   * iterators: a message can be built only when it is its turn (first-sync.ts).
   */
  private paced: Iterator<Uint8Array>[] = []
  private pacedType: OutgoingType = 'sync-step2'
  private pacing = false

  constructor(
    private readonly ws: WebSocket,
    private readonly maxBufferedBytes: number,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    const socket = rawSocketOf(ws)
    this.outbox = socket ? new FrameOutbox(ws, socket) : undefined
  }

  /** Bytes sent but not yet written to the kernel (ws's buffer plus this tick's frames). */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount + (this.outbox ? this.outbox.queuedBytes : 0)
  }

  /**
   * Sends one message, or returns false, sending nothing, when it would take the unsent
   * bytes past MAX_BUFFERED_BYTES (a client that does not read: the caller closes it).
   */
  send(message: Uint8Array, type: OutgoingType): boolean {
    if (this.stopped) return true
    if (this.bufferedAmount + message.byteLength > this.maxBufferedBytes) return false
    if (this.outbox) this.outbox.push(binaryFrame(message))
    else this.ws.send(message, BINARY)
    this.metrics.sent.add(type, message.byteLength)
    return true
  }

  /**
   * Sends `messages` one after the other, each when ws has written the previous one to the
   * socket. They do not count against MAX_BUFFERED_BYTES: the first sync is bounded by the
   * doc (which the server accepted), not by how fast this client reads, and at most one
   * piece sits in ws's buffer at a time, so live traffic keeps the whole budget.
   */
  sendPaced(messages: Iterable<Uint8Array>, type: OutgoingType): void {
    if (this.stopped) return
    this.paced.push(messages[Symbol.iterator]())
    this.pacedType = type
    if (!this.pacing) this.sendNextPaced()
  }

  private nextPaced(): Uint8Array | undefined {
    while (this.paced.length > 0) {
      const next = this.paced[0]!.next()
      if (!next.done) return next.value
      this.paced.shift()
    }
    return undefined
  }

  private sendNextPaced(): void {
    const message = this.stopped ? undefined : this.nextPaced()
    if (message === undefined || this.stopped) {
      this.pacing = false
      this.paced = []
      return
    }
    this.pacing = true
    const type = this.pacedType
    this.flush()
    this.ws.send(message, BINARY, (error) => {
      // A failed write means the socket is going away: 'close' follows and detaches us.
      if (error) {
        this.logger.debug({ err: error.message }, 'paced send failed')
        this.paced = []
        this.pacing = false
        return
      }
      this.sendNextPaced()
    })
    this.metrics.sent.add(type, message.byteLength)
  }

  /** Hands this tick's frames to the socket now: before ws writes a frame of its own. */
  flush(): void {
    this.outbox?.flush()
  }

  /** Nothing is sent from here on; frames not yet written are dropped. */
  stop(): void {
    this.stopped = true
    this.paced = []
    this.outbox?.discard()
  }
}
