/**
 * `simulateEditors`: simulated editors type into docs on one or more servers, then the run
 * checks that nothing was lost (issue 15).
 *
 *   connecting ──all synced──▶ typing ──duration / abort──▶ settling ──converged / timeout──▶ judged
 *        │ (an editor cannot sync in time: SimulationConnectError, everything closed)
 *
 * Settling never reconnects anyone: a frame the server failed to deliver stays missing, and
 * the verdict reports it (stock clients only resync when they reconnect). Editors that chaos
 * took offline come back when typing ends, as their scripted offline period is over.
 * Every phase is bounded in time; every editor is destroyed at the end, whatever happens.
 */
import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import * as prng from 'lib0/prng'
import { type ConnectionStats, emptyStats, SimEditor } from './sim-editor.js'
import { DeliveryTracker, LatencySamples, type LatencySummary } from './sim-latency.js'
import {
  type ResolvedOptions,
  resolveOptions,
  type SimulateOptions,
  type SimulationProgress,
} from './sim-options.js'
import { type EditCounts, emptyCounts } from './sim-typing.js'
import { type DocVerdict, hasConverged, judgeDoc } from './sim-verdict.js'

/** The outcome of a run: `ok` only if every doc converged and no edit was lost. */
export interface SimulationVerdict {
  readonly ok: boolean
  readonly seed: number
  readonly urls: readonly string[]
  readonly docs: readonly DocVerdict[]
  /** The first doc that diverged or lost edits, with a diff (undefined when ok). */
  readonly firstFailure?: DocVerdict
  readonly totals: {
    readonly docs: number
    readonly editors: number
    readonly rate: number
    /** Typing time actually run (shorter than asked if aborted). */
    readonly typingMs: number
    /** Time from the end of typing until every doc converged, or the settle timeout. */
    readonly settleMs: number
    readonly edits: number
    readonly editsByKind: EditCounts
    readonly docsDiverged: number
    readonly lostEdits: number
    /** Delivery latency: edit → seen by each other editor of its doc, in ms. */
    readonly latency: LatencySummary
    readonly reconnects: number
    /** Every error counted (connect + terminal closes + edit errors). */
    readonly errors: number
    readonly connectErrors: number
    readonly terminalCloses: number
    readonly closeCodes: Readonly<Record<string, number>>
    /** The first few distinct error messages. */
    readonly errorSamples: readonly string[]
  }
  readonly interrupted: boolean
}

/** Some editor could not connect and sync at the start: nothing was typed. */
export class SimulationConnectError extends Error {
  override readonly name = 'SimulationConnectError'
  constructor(
    message: string,
    /** 401/403 when a server refused an editor's upgrade (a token problem): the run stopped at once. */
    readonly refusedStatus?: 401 | 403,
  ) {
    super(message)
  }
}

interface SimDoc {
  readonly name: string
  readonly editors: SimEditor[]
}

const SETTLE_POLL_MS = 50

/**
 * Runs a simulation and resolves with its verdict (it does not throw on a failed verdict).
 * @throws SimulationOptionsError on a bad option (nothing started), SimulationConnectError
 *   when an editor cannot sync within `connectTimeoutMs` (everything closed again).
 */
export async function simulateEditors(options: SimulateOptions): Promise<SimulationVerdict> {
  const resolved = resolveOptions(options)
  const random = prng.create(resolved.seed)
  // Random even with a fixed seed: a rerun on the same docs (--prefix) must not type the
  // tokens of an earlier run, whose presence would hide a loss.
  const runId = randomBytes(2).toString('hex')
  const samples = new LatencySamples(100_000, () => prng.real53(random))
  const stats = emptyStats()
  const listeners = raiseExitListenerLimit(resolved.docs * resolved.editors)
  let docs: SimDoc[]
  try {
    docs = await createDocs(resolved, runId, samples, stats)
  } catch (error) {
    listeners.restore()
    throw error
  }
  const all = docs.flatMap((doc) => doc.editors)
  let timer: NodeJS.Timeout | undefined
  try {
    let phase: SimulationProgress['phase'] = 'connecting'
    let typingStarted = 0
    let edits = 0
    const progress = (): SimulationProgress => ({
      phase,
      elapsedMs: typingStarted ? performance.now() - typingStarted : 0,
      durationMs: resolved.durationMs,
      editors: all.length,
      connected: all.filter((editor) => editor.provider.wsconnected).length,
      edits,
      reconnects: stats.reconnects,
      errors: errorCount(stats),
      latency: samples.summary(),
    })
    if (options.onProgress) {
      const report = options.onProgress
      timer = setInterval(() => report(progress()), resolved.progressIntervalMs)
    }
    // A refused token fails every retry the same way: stop at the first refusal.
    const refused = () => all.find((editor) => editor.refusedStatus !== undefined)
    await waitUntil(
      () => all.every((editor) => editor.synced) || refused() !== undefined,
      resolved.connectTimeoutMs,
      options.signal,
    )
    const unsynced = all.find((editor) => !editor.synced)
    if (unsynced && options.signal?.aborted) {
      throw new SimulationConnectError('interrupted while the editors were connecting: nothing was typed')
    }
    const refusal = refused()
    if (refusal?.refusedStatus !== undefined) {
      throw new SimulationConnectError(
        `editor ${refusal.id} was refused by ${refusal.url} with HTTP ${refusal.refusedStatus}` +
          (refusal.refusedStatus === 401 ? ' (no valid token)' : ' (the token does not grant this doc)'),
        refusal.refusedStatus,
      )
    }
    if (unsynced) {
      throw new SimulationConnectError(
        `editor ${unsynced.id} could not sync with ${unsynced.url} within ${resolved.connectTimeoutMs} ms` +
          (unsynced.lastError ? `: ${unsynced.lastError}` : ''),
      )
    }

    phase = 'typing'
    typingStarted = performance.now()
    for (const editor of all) {
      editor.startTyping(resolved.rate, () => {
        edits += 1
      })
      if (resolved.chaos && resolved.chaos.disconnectsPerMinute > 0) {
        editor.startChaos(resolved.chaos.disconnectsPerMinute, resolved.chaos.maxOfflineMs)
      }
    }
    const interrupted = !(await sleep(resolved.durationMs, options.signal))
    for (const editor of all) editor.stop()
    const typingMs = performance.now() - typingStarted

    phase = 'settling'
    const settleStart = performance.now()
    await waitUntil(
      () => docs.every((doc) => hasConverged(doc.editors.map((editor) => editor.doc))),
      resolved.settleTimeoutMs,
    )
    const settleMs = performance.now() - settleStart
    return verdictOf(resolved, docs, stats, samples, { typingMs, settleMs, interrupted })
  } finally {
    clearInterval(timer)
    for (const editor of all) editor.destroy()
    listeners.restore()
  }
}

/**
 * Each y-websocket provider adds a process 'exit' listener (to announce its awareness
 * removal) and removes it when destroyed. Past Node's limit (10 by default) that printed
 * "MaxListenersExceededWarning: Possible EventEmitter memory leak detected" on every run of
 * more than ten editors; the limit is raised by this run's editors and given back after.
 */
function raiseExitListenerLimit(editors: number): { restore(): void } {
  const before = process.getMaxListeners()
  // 0 means unlimited: nothing to raise.
  if (before === 0) return { restore() {} }
  process.setMaxListeners(before + editors)
  return {
    restore() {
      process.setMaxListeners(Math.max(1, process.getMaxListeners() - editors))
    },
  }
}

async function createDocs(
  resolved: ResolvedOptions,
  runId: string,
  samples: LatencySamples,
  stats: ConnectionStats,
): Promise<SimDoc[]> {
  const prefix = resolved.docPrefix ?? `sim-${runId}/`
  const docs: SimDoc[] = []
  let slot = 0
  for (let d = 0; d < resolved.docs; d++) {
    const name = `${prefix}${d}`
    const tracker = new DeliveryTracker(samples)
    const editors: SimEditor[] = []
    for (let e = 0; e < resolved.editors; e++) {
      const id = `${name}#${e}`
      editors.push(
        new SimEditor({
          id,
          // Round-robin over the URLs across all editors, so each doc spans the servers.
          url: resolved.urls[slot++ % resolved.urls.length]!,
          docName: name,
          token: resolved.token ?? (resolved.secret ? await mintToken(resolved, name, id) : undefined),
          // Tokens are `<run>.<doc>.<editor>.<seq>`: unique across runs, docs and editors.
          tag: `${runId}.${d}.${e}.`,
          random: prng.create(prng.uint32(prngFor(resolved.seed, d, e), 0, 2 ** 31 - 1)),
          stats,
          tracker,
        }),
      )
    }
    docs.push({ name, editors })
  }
  return docs
}

/** A per-editor seed that does not depend on how many random numbers others drew. */
function prngFor(seed: number, doc: number, editor: number): prng.PRNG {
  return prng.create((seed * 1_000_003 + doc * 1009 + editor) % 2 ** 31)
}

/** A token for one editor and one doc, valid for the whole run with a margin. */
async function mintToken(resolved: ResolvedOptions, docName: string, editorId: string): Promise<string> {
  const lifetimeS = Math.ceil(
    (resolved.connectTimeoutMs + resolved.durationMs + resolved.settleTimeoutMs) / 1000 + 600,
  )
  return new SignJWT({ docs: [docName], mode: 'write' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`simulate:${editorId}`)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeS)
    .sign(new TextEncoder().encode(resolved.secret))
}

function errorCount(stats: ConnectionStats): number {
  return stats.connectErrors + stats.terminalCloses + stats.editErrors
}

function verdictOf(
  resolved: ResolvedOptions,
  docs: readonly SimDoc[],
  stats: ConnectionStats,
  samples: LatencySamples,
  timing: { typingMs: number; settleMs: number; interrupted: boolean },
): SimulationVerdict {
  const verdicts = docs.map((doc) => judgeDoc(doc.name, doc.editors))
  const editsByKind = emptyCounts()
  for (const doc of docs) {
    for (const editor of doc.editors) {
      for (const [kind, count] of Object.entries(editor.typist.counts)) {
        editsByKind[kind as keyof EditCounts] += count
      }
    }
  }
  const failed = verdicts.filter((doc) => !doc.converged || doc.lostCount > 0)
  const firstFailure = failed[0]
  const round = (ms: number) => Math.round(ms)
  return {
    ok: failed.length === 0,
    seed: resolved.seed,
    urls: resolved.urls,
    docs: verdicts,
    ...(firstFailure ? { firstFailure } : {}),
    totals: {
      docs: docs.length,
      editors: docs.length * resolved.editors,
      rate: resolved.rate,
      typingMs: round(timing.typingMs),
      settleMs: round(timing.settleMs),
      edits: Object.values(editsByKind).reduce((a, b) => a + b, 0),
      editsByKind,
      docsDiverged: verdicts.filter((doc) => !doc.converged).length,
      lostEdits: verdicts.reduce((sum, doc) => sum + doc.lostCount, 0),
      latency: samples.summary(),
      reconnects: stats.reconnects,
      errors: errorCount(stats),
      connectErrors: stats.connectErrors,
      terminalCloses: stats.terminalCloses,
      closeCodes: { ...stats.closeCodes },
      errorSamples: [...stats.samples],
    },
    interrupted: timing.interrupted,
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Polls `check` every 50 ms until it holds, `timeoutMs` passes or `signal` aborts. */
async function waitUntil(check: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check() && performance.now() < deadline && !signal?.aborted) {
    await sleep(SETTLE_POLL_MS, signal)
  }
}
