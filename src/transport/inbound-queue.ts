/**
 * One connection's inbound work, done one item at a time in arrival order (Hocuspocus keeps
 * a queue like it for the same reason): while an item's handler is busy — a big message
 * validated on a worker thread, an awaited hook — later items wait, so nothing a client sent
 * can overtake what it sent before. A handler that finishes synchronously (returns
 * undefined) lets the next item run at once: the common path costs no promise or microtask.
 *
 * States:  idle --push--> running (inline) --handler returned undefined--> idle / next item
 *                          running --handler returned a promise--> waiting --settled--> next item
 *          any --stop()--> stopped (items dropped, nothing runs again)
 * Waiting items are bounded by bytes; `push` reports when the bound would be passed so the
 * connection can close instead of buffering without limit.
 *
 * Flow control (optional): past `flow.pauseAboveBytes` waiting, `flow.pause()` is called once
 * (the connection stops reading its socket: TCP backpressure on the client), and
 * `flow.resume()` once the waiting bytes are back under `flow.resumeBelowBytes`. Then the hard
 * bound only has to cover what was already read when the pause came.
 */

export interface InboundFlow {
  readonly pauseAboveBytes: number
  readonly resumeBelowBytes: number
  pause(): void
  resume(): void
}

export class InboundQueue<T> {
  // An array with a moving head: shift() would be O(n) per item with many small messages.
  private waiting: { item: T; bytes: number }[] = []
  private head = 0
  private waitingBytes = 0
  private running = false
  private stopped = false
  private paused = false

  /**
   * @param handle does one item; returns a promise when it must finish before the next.
   * @param maxWaitingBytes bound on the bytes of items waiting behind a busy handler.
   * @param onError gets what a handler threw or rejected with (the queue carries on).
   */
  constructor(
    private readonly handle: (item: T) => Promise<void> | undefined,
    private readonly maxWaitingBytes: number,
    private readonly onError: (error: unknown) => void,
    private readonly flow?: InboundFlow,
  ) {}

  /** Bytes of the items waiting behind a busy handler. */
  get bytes(): number {
    return this.waitingBytes
  }

  /** True between `flow.pause()` and `flow.resume()`. */
  get isPaused(): boolean {
    return this.paused
  }

  /** Items waiting behind a busy handler. */
  get length(): number {
    return this.waiting.length - this.head
  }

  /**
   * Adds an item of `bytes` (0 for internal tasks). Returns false, and drops it, when waiting
   * items would exceed the byte bound; after `stop()` items are dropped silently.
   */
  push(item: T, bytes: number): boolean {
    if (this.stopped) return true
    if (this.running) {
      if (bytes > 0 && this.waitingBytes + bytes > this.maxWaitingBytes) return false
      this.waiting.push({ item, bytes })
      this.waitingBytes += bytes
      if (this.flow && !this.paused && this.waitingBytes > this.flow.pauseAboveBytes) {
        this.paused = true
        this.flow.pause()
      }
      return true
    }
    this.run(item)
    return true
  }

  /** Drops every waiting item; nothing runs after the current handler. */
  stop(): void {
    this.stopped = true
    this.waiting = []
    this.head = 0
    this.waitingBytes = 0
  }

  private run(first: T): void {
    this.running = true
    let item: T | undefined = first
    while (item !== undefined && !this.stopped) {
      let pending: Promise<void> | undefined
      try {
        pending = this.handle(item)
      } catch (error) {
        this.onError(error)
      }
      if (pending) {
        pending.then(
          () => this.resume(),
          (error: unknown) => {
            this.onError(error)
            this.resume()
          },
        )
        return
      }
      item = this.next()
    }
    this.running = false
  }

  private resume(): void {
    const item = this.next()
    if (item === undefined || this.stopped) {
      this.running = false
      return
    }
    this.run(item)
  }

  private next(): T | undefined {
    const entry = this.waiting[this.head]
    if (!entry) return undefined
    this.head += 1
    if (this.head === this.waiting.length) {
      this.waiting = []
      this.head = 0
    }
    this.waitingBytes -= entry.bytes
    if (this.paused && this.flow && this.waitingBytes < this.flow.resumeBelowBytes && !this.stopped) {
      this.paused = false
      this.flow.resume()
    }
    return entry.item
  }
}
