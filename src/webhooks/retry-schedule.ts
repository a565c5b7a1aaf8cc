/**
 * When a failed delivery is tried again: WEBHOOK_RETRY_MIN_MS after the first failure, then
 * doubling up to one hour between attempts, for at least 24 hours. With the 5 s default the
 * waits are 5 s, 10 s, 20 s … 42 min 40 s, then hourly: 34 attempts, the last one 24 h or more after the event.
 */

/** The longest wait between two attempts. */
export const MAX_RETRY_DELAY_MS = 3_600_000

/** A delivery still failing this long after its window closed is given up (after one last try). */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000

/**
 * The wait after the `failures`-th failed attempt (1 = the first attempt failed).
 * `minMs` doubles per failure; capped at MAX_RETRY_DELAY_MS.
 */
export function retryDelayMs(failures: number, minMs: number): number {
  const exponent = Math.max(0, failures - 1)
  // 2^40 already dwarfs any cap; stop before the float grows pointlessly.
  const delay = minMs * 2 ** Math.min(exponent, 40)
  return Math.min(delay, Math.max(minMs, MAX_RETRY_DELAY_MS))
}

/** true when a delivery created at `createdAt` that just failed at `now` gets no more attempts. */
export function shouldGiveUp(createdAt: number, now: number): boolean {
  return now - createdAt >= GIVE_UP_AFTER_MS
}
