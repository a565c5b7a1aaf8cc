/**
 * Deadlines for Redis calls. ioredis can leave a promise unsettled for good (a command that
 * was in flight when the connection dropped is discarded on reconnect when
 * `autoResendUnfulfilledCommands` is off), and a connection a middlebox silently forgot
 * answers nothing without ever closing. Every call the relay waits on goes through this.
 */

/** A Redis call that got no reply within its deadline. */
export class DeadlineError extends Error {
  override name = 'DeadlineError'
}

/**
 * Resolves or rejects like `work`, or rejects with DeadlineError after `ms` (`what` names the
 * call in the message). `work` keeps running; a late rejection of it is swallowed here,
 * because the caller has already been told.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what = 'Redis call'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what}: no reply within ${ms} ms`)), ms)
  })
  work.catch(() => undefined)
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
