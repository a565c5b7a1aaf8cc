/**
 * The lifecycle of a document store, checked by every public method (abstract-level's
 * `#status`):
 *
 *              open()            resolved
 *     new ─────────────► opening ─────────► open ──close()──► closing ──► closed
 *      ▲                    │ rejected                          (flush, wait for
 *      └────────────────────┘ (open() may be tried again)        compactions, close
 *     new ──close()──────────────────────────────────────────►   the backend) closed
 *
 * - open() while opening or open returns the same promise; open() once closing is refused.
 * - close() is one operation: every call returns the same promise, which resolves only when
 *   the backend is really closed. close() while opening waits for the open to settle first.
 * - From `closing` on, append()/compact()/load()… throw YWS_ERR_CLOSED: nothing is queued that
 *   nobody would write, and no retry timer is armed against a database going away.
 */
import { YwsError } from '../errors.js'

export type StoreState = 'new' | 'opening' | 'open' | 'closing' | 'closed'

export class StoreLifecycle {
  private current: StoreState = 'new'
  private opening: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private wasOpen = false

  constructor(private readonly location: string) {}

  get state(): StoreState {
    return this.current
  }

  get isOpen(): boolean {
    return this.current === 'open'
  }

  /** True from close() on: background work (retries, automatic compaction) must not start. */
  get isShuttingDown(): boolean {
    return this.current === 'closing' || this.current === 'closed'
  }

  open(run: () => Promise<void>): Promise<void> {
    if (this.isShuttingDown) return Promise.reject(this.closedError())
    this.opening ??= (async () => {
      this.current = 'opening'
      try {
        await run()
        // close() may have been called meanwhile; it waits for this promise and then closes.
        this.wasOpen = true
        if (this.current === 'opening') this.current = 'open'
      } catch (error) {
        if (this.current === 'opening') this.current = 'new'
        this.opening = undefined
        throw error
      }
    })()
    return this.opening
  }

  /** `run` is called once, and only if the store got open; its failure still ends in `closed`. */
  close(run: () => Promise<void>): Promise<void> {
    this.closing ??= (async () => {
      const opening = this.opening
      const wasOpening = this.current === 'opening'
      this.current = 'closing'
      const opened = wasOpening
        ? await opening!.then(
            () => true,
            () => false,
          )
        : opening !== undefined
      try {
        if (opened) await run()
      } finally {
        this.current = 'closed'
      }
    })()
    return this.closing
  }

  /** Throws YWS_ERR_CLOSED unless open. */
  assertOpen(): void {
    if (this.current !== 'open') throw this.closedError()
  }

  private closedError(): YwsError {
    const what = this.wasOpen ? 'closed' : 'not open'
    return new YwsError('YWS_ERR_CLOSED', `the document store at ${this.location} is ${what}`)
  }
}
