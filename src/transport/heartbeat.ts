/**
 * The heartbeat over every connection, every `intervalMs`, in slices: each ping is a socket
 * write (a syscall), and one loop over 3,000 connections held the event loop for 90-190 ms
 * on the 2-core box (measured: scratch loop of ws.ping over 3,000 loopback sockets), a stall
 * every 30 s for every doc's updates. Slices of SLICE connections run one per macrotask
 * (setImmediate), so other I/O gets in between; a sweep still running when the next tick
 * comes (a tiny interval, a huge server) is not doubled up.
 */

/** Connections pinged per macrotask: a few ms of syscalls at most. */
const SLICE = 100

export interface Beating {
  /** One heartbeat: ping, or end the connection if the previous ping got no answer. */
  heartbeat(): void
}

export class Heartbeat {
  private readonly timer: NodeJS.Timeout
  private sweeping = false
  private stopped = false

  constructor(
    intervalMs: number,
    private readonly connections: () => Iterable<Beating>,
  ) {
    this.timer = setInterval(() => this.sweep(), intervalMs)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }

  private sweep(): void {
    if (this.sweeping || this.stopped) return
    this.sweeping = true
    const all = [...this.connections()]
    const slice = (from: number): void => {
      if (this.stopped) {
        this.sweeping = false
        return
      }
      const end = Math.min(from + SLICE, all.length)
      for (let i = from; i < end; i++) all[i]?.heartbeat()
      if (end < all.length) setImmediate(slice, end)
      else this.sweeping = false
    }
    slice(0)
  }
}
