/**
 * The options of a simulation and their validation. Every bound here exists so that a typo
 * cannot start an unbounded run: counts, rates and durations all have a ceiling.
 */
import type { LatencySummary } from './sim-latency.js'

/** Random client disconnects and offline periods while typing. */
export interface ChaosOptions {
  /** Average disconnects per editor per minute (half are drops, half offline periods). */
  readonly disconnectsPerMinute: number
  /** Longest offline period, in ms (default 3000). */
  readonly maxOfflineMs?: number
}

/** Progress, reported about once a second while a simulation runs. */
export interface SimulationProgress {
  readonly phase: 'connecting' | 'typing' | 'settling'
  /** Milliseconds since typing started (0 while connecting). */
  readonly elapsedMs: number
  readonly durationMs: number
  readonly editors: number
  /** Editors connected to a server right now. */
  readonly connected: number
  readonly edits: number
  readonly reconnects: number
  readonly errors: number
  readonly latency: LatencySummary
}

export interface SimulateOptions {
  /** WebSocket base URLs of the servers (ws:// or wss://); editors are spread over them. */
  readonly urls: readonly string[]
  /** Number of docs (default 1). */
  readonly docs?: number
  /** Editors per doc (default 3). */
  readonly editors?: number
  /** Edits per second per editor (default 2: typing pace, a word at a time). */
  readonly rate?: number
  /** How long the editors type, in ms (default 10 000). */
  readonly durationMs?: number
  /** How long to wait for convergence after typing stops, in ms (default 15 000). */
  readonly settleTimeoutMs?: number
  /** How long every editor may take to connect and sync at the start, in ms (default 15 000). */
  readonly connectTimeoutMs?: number
  /** Seed of all randomness (default: random; the verdict reports it, to repeat a run). */
  readonly seed?: number
  /** Doc name prefix (default `sim-<run id>/`, so runs never share docs). */
  readonly docPrefix?: string
  /** A JWT sent by every editor as `?token=`. */
  readonly token?: string
  /** An HS256 secret (the server's AUTH_SECRET): each editor gets its own token for its doc. */
  readonly secret?: string
  readonly chaos?: ChaosOptions
  /** Ends typing early (the run still settles and judges). */
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: SimulationProgress) => void
  /** Interval of `onProgress` calls in ms (default 1000). */
  readonly progressIntervalMs?: number
}

/** A bad option: the message names it. Nothing was started. */
export class SimulationOptionsError extends Error {
  override readonly name = 'SimulationOptionsError'

  /**
   * @param option the option at fault, e.g. `durationMs` or `chaos.maxOfflineMs`.
   * @param range for a number out of range: the bounds and the value given (in the option's
   *   own unit), so a front end that takes other units (the CLI takes seconds) can say so.
   */
  constructor(
    readonly option: string,
    message: string,
    readonly range?: { readonly min: number; readonly max: number; readonly got: number },
  ) {
    super(message)
  }
}

/** Options with every default applied. */
export interface ResolvedOptions {
  readonly urls: readonly string[]
  readonly docs: number
  readonly editors: number
  readonly rate: number
  readonly durationMs: number
  readonly settleTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly seed: number
  readonly docPrefix: string | undefined
  readonly token: string | undefined
  readonly secret: string | undefined
  readonly chaos: Required<ChaosOptions> | undefined
  readonly progressIntervalMs: number
}

export const LIMITS = {
  docs: 10_000,
  editorsPerDoc: 1_000,
  totalEditors: 20_000,
  rate: 100,
  durationMs: 24 * 3600_000,
  settleTimeoutMs: 600_000,
  connectTimeoutMs: 600_000,
  disconnectsPerMinute: 600,
} as const

function checkNumber(name: string, value: number, min: number, max: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new SimulationOptionsError(
      name,
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${value})`,
      { min, max, got: value },
    )
  }
  return value
}

export function resolveOptions(options: SimulateOptions): ResolvedOptions {
  if (!Array.isArray(options.urls) || options.urls.length === 0) {
    throw new SimulationOptionsError('urls', 'urls must list at least one ws:// or wss:// URL')
  }
  for (const url of options.urls) {
    let protocol: string
    try {
      protocol = new URL(url).protocol
    } catch {
      throw new SimulationOptionsError('urls', `urls: ${JSON.stringify(url)} is not a URL`)
    }
    if (protocol !== 'ws:' && protocol !== 'wss:') {
      throw new SimulationOptionsError('urls', `urls: ${url} must start with ws:// or wss://`)
    }
  }
  if (options.token !== undefined && options.secret !== undefined) {
    throw new SimulationOptionsError('token', 'token and secret are exclusive: give one of them')
  }
  if (options.secret !== undefined && options.secret.length === 0) {
    throw new SimulationOptionsError('secret', 'secret must not be empty')
  }
  const docs = checkNumber('docs', options.docs ?? 1, 1, LIMITS.docs, true)
  const editors = checkNumber('editors', options.editors ?? 3, 1, LIMITS.editorsPerDoc, true)
  if (docs * editors > LIMITS.totalEditors) {
    throw new SimulationOptionsError(
      'editors',
      `docs × editors must be at most ${LIMITS.totalEditors} (got ${docs} × ${editors})`,
    )
  }
  const chaos = options.chaos
  return {
    urls: [...options.urls],
    docs,
    editors,
    rate: checkNumber('rate', options.rate ?? 2, 0.01, LIMITS.rate, false),
    durationMs: checkNumber('durationMs', options.durationMs ?? 10_000, 1, LIMITS.durationMs, false),
    settleTimeoutMs: checkNumber(
      'settleTimeoutMs',
      options.settleTimeoutMs ?? 15_000,
      0,
      LIMITS.settleTimeoutMs,
      false,
    ),
    connectTimeoutMs: checkNumber(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? 15_000,
      1,
      LIMITS.connectTimeoutMs,
      false,
    ),
    seed: checkNumber('seed', options.seed ?? Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31 - 1, true),
    docPrefix: options.docPrefix,
    token: options.token,
    secret: options.secret,
    chaos: chaos
      ? {
          disconnectsPerMinute: checkNumber(
            'chaos.disconnectsPerMinute',
            chaos.disconnectsPerMinute,
            0,
            LIMITS.disconnectsPerMinute,
            false,
          ),
          maxOfflineMs: checkNumber('chaos.maxOfflineMs', chaos.maxOfflineMs ?? 3000, 0, 600_000, false),
        }
      : undefined,
    progressIntervalMs: checkNumber(
      'progressIntervalMs',
      options.progressIntervalMs ?? 1000,
      50,
      3600_000,
      false,
    ),
  }
}
