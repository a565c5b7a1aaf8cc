/**
 * Runs the hook sets of src/hooks.ts: the built-in ones (webhooks, version history) first,
 * then the user's, each awaited in turn. A hook that throws is logged and counted
 * (`yws_hook_errors_total{hook}`) and the next set still runs: a hook can never crash the
 * server or stop an update. The one exception is `onAuthenticate`, whose throw is its answer
 * (a refusal) — see `authenticate`.
 */
import type { AuthenticateContext, AuthenticateResult, Hooks, HookUser } from './hooks.js'
import type { Logger } from './observability/logger.js'
import type { Metrics } from './observability/metrics.js'

export type HookName = keyof Hooks
/** Hooks that only observe: their errors are logged and counted, never propagated. */
export type ObserverHook = Exclude<HookName, 'onAuthenticate'>
type ContextOf<N extends HookName> = Parameters<NonNullable<Hooks[N]>>[0]

/** Throw from `onAuthenticate` to refuse with 401 or 403 (catalogued in errors.ts). */
export { AuthenticationError } from './errors.js'

/** The HTTP status an `onAuthenticate` throw refuses with: 403 when the error says so, else 401. */
export function refusalStatus(error: unknown): 401 | 403 {
  const status = (error as { status?: unknown } | null)?.status
  return status === 403 ? 403 : 401
}

export class HookRunner {
  private readonly sets: readonly Hooks[]
  /** Observer calls still running, so close() can wait for them. */
  private readonly running = new Set<Promise<void>>()

  constructor(
    sets: readonly Hooks[],
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.sets = [...sets]
  }

  /** Whether any set has this hook (callers skip building contexts and awaiting otherwise). */
  has(name: HookName): boolean {
    return this.sets.some((set) => typeof set[name] === 'function')
  }

  /**
   * Calls `name` on every set that has it, in order, each awaited. Never rejects: a throw is
   * logged with `context.docName`, counted, and the remaining sets still run.
   */
  notify<N extends ObserverHook>(name: N, context: ContextOf<N>): Promise<void> {
    const call = this.callAll(name, context)
    this.running.add(call)
    void call.then(() => this.running.delete(call))
    return call
  }

  /**
   * Like `notify`, for the per-update path (`onChange`): when every hook returns without a
   * promise (the built-in history hook, any synchronous user hook) it returns undefined, so
   * the room and the connection go on without a promise, a microtask and a closure per
   * update (about 1 KB of garbage per update at 3,500 edits/s). The first hook that returns
   * a thenable is awaited and the remaining sets run after it, as with `notify`.
   */
  notifyUnlessSync<N extends ObserverHook>(name: N, context: ContextOf<N>): Promise<void> | undefined {
    const sets = this.sets
    for (let index = 0; index < sets.length; index++) {
      const set = sets[index] as Hooks
      const hook = set[name] as ((this: Hooks, context: ContextOf<N>) => unknown) | undefined
      if (typeof hook !== 'function') continue
      let result: unknown
      try {
        result = hook.call(set, context)
      } catch (error) {
        this.hookFailed(name, context, error, false)
        continue
      }
      if (isThenable(result)) {
        const call = this.finishFrom(name, context, result, index + 1)
        this.running.add(call)
        void call.then(() => this.running.delete(call))
        return call
      }
    }
    return undefined
  }

  private async finishFrom<N extends ObserverHook>(
    name: N,
    context: ContextOf<N>,
    pending: PromiseLike<unknown>,
    nextSet: number,
  ): Promise<void> {
    try {
      await pending
    } catch (error) {
      this.hookFailed(name, context, error, false)
    }
    await this.callAll(name, context, false, nextSet)
  }

  /** Resolves once every observer call started so far has finished. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running)
  }

  /**
   * Calls `name` on every set in order. A throw is logged and counted; with `giveUp` it is
   * rethrown and the remaining sets are not called, otherwise the next set runs.
   */
  private async callAll<N extends ObserverHook>(
    name: N,
    context: ContextOf<N>,
    giveUp = false,
    firstSet = 0,
  ): Promise<void> {
    for (let index = firstSet; index < this.sets.length; index++) {
      const set = this.sets[index] as Hooks
      const hook = set[name] as ((this: Hooks, context: ContextOf<N>) => unknown) | undefined
      if (typeof hook !== 'function') continue
      try {
        await hook.call(set, context)
      } catch (error) {
        this.hookFailed(name, context, error, giveUp)
        if (giveUp) throw error
      }
    }
  }

  private hookFailed<N extends ObserverHook>(
    name: N,
    context: ContextOf<N>,
    error: unknown,
    giveUp: boolean,
  ): void {
    this.metrics.hookErrors.inc({ hook: name })
    this.logger.error(
      { hook: name, doc: context.docName, err: error },
      giveUp ? 'hook threw; giving up' : 'hook threw; carrying on',
    )
  }

  /**
   * Like `notify`, but the first throw is logged, counted and rethrown (the remaining sets
   * are not called): for `onLoadDocument`, where a failed seed must fail the load rather
   * than serve a document that lacks it.
   */
  async attempt<N extends ObserverHook>(name: N, context: ContextOf<N>): Promise<void> {
    await this.callAll(name, context, true)
  }

  /**
   * Asks every set's `onAuthenticate`, in order. The first throw refuses (rethrown, for the
   * caller to answer 401/403). Otherwise the answers combine: read-only if any says so; the
   * user is the last one given (the user's own hook runs last).
   */
  async authenticate(
    context: AuthenticateContext,
  ): Promise<{ user: HookUser | undefined; readOnly: boolean }> {
    let user: HookUser | undefined
    let readOnly = false
    for (const set of this.sets) {
      if (typeof set.onAuthenticate !== 'function') continue
      const result: AuthenticateResult | undefined = await set.onAuthenticate(context)
      if (result?.user !== undefined) user = result.user
      if (result?.readOnly === true) readOnly = true
    }
    return { user, readOnly }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
