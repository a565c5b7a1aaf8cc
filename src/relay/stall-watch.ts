/**
 * Tells a stream reader's late turns apart: the first of a run of late turns (a stall began)
 * from the ones after it (the same stall goes on). Pure; the readers own the clock.
 *
 * Why: a reader calls its owner's onStall for every turn later than `stallMs` (half the
 * trim margin), and the owner checks every room for gaps each time, which is what keeps a
 * reply that jumped a trim from going unnoticed. But it also logged each time, and with
 * RELAY trimMarginMs 0 (stallMs 0) every turn is late: one warning per poll, forever. The
 * check still runs per late turn; the warning is for the turn that began the stall.
 */
export type StallTurn = 'began' | 'continues' | undefined

export class StallWatch {
  private last: number
  private stalled = false

  /** @param stallMs a turn later than this after the previous one is late (ms) */
  constructor(
    private readonly stallMs: number,
    now: number,
  ) {
    this.last = now
  }

  /**
   * Records a turn at `now` (ms, performance.now()): 'began' for the first late turn after
   * an on-time one, 'continues' for a late turn after a late one, undefined when on time.
   */
  turn(now: number): StallTurn {
    const late = now - this.last > this.stallMs
    this.last = now
    if (!late) {
      this.stalled = false
      return undefined
    }
    const turn = this.stalled ? 'continues' : 'began'
    this.stalled = true
    return turn
  }

  /** Restarts the clock without a verdict (the reader waited for a reconnect, not a stall). */
  restart(now: number): void {
    this.last = now
  }
}
