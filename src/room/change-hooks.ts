/**
 * Runs a room's change hooks one at a time, in the order the doc accepted the changes: a
 * change's hooks start only once the previous change's finished (a slow `onChange` delays
 * the next hook call, never an update's fan-out).
 */
import type { ChangeOrigin } from '../hooks.js'

/** Starts the hooks of one change; undefined when there is nothing to wait for. */
export type ChangeHandler<C> = (change: C) => Promise<void> | undefined

export class ChangeHookQueue<C extends { readonly origin: ChangeOrigin }> {
  /** The change hooks still running or waiting, in order (undefined when idle). */
  private tail: Promise<void> | undefined

  constructor(private readonly handler: ChangeHandler<C>) {}

  /** Queues `change`'s hooks; returns them (to hold the change's connection) if any run. */
  report(change: C): Promise<void> | undefined {
    const previous = this.tail
    const hooks = previous ? previous.then(() => this.handler(change)) : this.handler(change)
    if (!hooks) return undefined
    this.tail = hooks
    void hooks.then(() => {
      if (this.tail === hooks) this.tail = undefined
    })
    return hooks
  }
}
