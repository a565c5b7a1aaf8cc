/**
 * Progress of a long compaction run on stderr: a live bar (cli-progress) on a terminal,
 * plain throttled lines otherwise (CI logs, cron mail, `| tee`), nothing with --quiet.
 */
import { Presets, SingleBar } from 'cli-progress'
import { formatBytes, formatCount, formatDuration } from './compact-summary.js'

export interface ProgressState {
  readonly docsDone: number
  readonly docsTotal: number
  readonly logBytesDone: number
  readonly logBytesTotal: number
  readonly bytesSaved: number
  readonly elapsedMs: number
}

export interface ProgressReporter {
  update(state: ProgressState): void
  /** A message that must not be garbled by the bar. */
  note(message: string): void
  stop(): void
}

interface TextSink {
  write(text: string): unknown
}

/**
 * Remaining time, from the share of log bytes done (compaction cost grows with log size,
 * so bytes predict better than doc counts); by docs when there is no log at all.
 * Undefined until something is done.
 */
export function estimateEtaMs(state: ProgressState): number | undefined {
  const fraction =
    state.logBytesTotal > 0
      ? Math.min(1, state.logBytesDone / state.logBytesTotal)
      : state.docsTotal > 0
        ? Math.min(1, state.docsDone / state.docsTotal)
        : 1
  if (fraction >= 1) return 0
  if (fraction <= 0 || state.elapsedMs <= 0) return undefined
  return (state.elapsedMs * (1 - fraction)) / fraction
}

export function formatProgressLine(verb: string, state: ProgressState): string {
  const percent = state.docsTotal > 0 ? (100 * state.docsDone) / state.docsTotal : 100
  const eta = estimateEtaMs(state)
  const parts = [
    `${verb} ${formatCount(state.docsDone)}/${formatCount(state.docsTotal)} docs (${percent.toFixed(1)}%)`,
  ]
  if (state.logBytesTotal > 0) {
    parts.push(`log ${formatBytes(state.logBytesDone)}/${formatBytes(state.logBytesTotal)}`)
    parts.push(`saved ${formatBytes(state.bytesSaved)}`)
  }
  parts.push(`elapsed ${formatDuration(state.elapsedMs)}`)
  parts.push(`ETA ${eta === undefined ? '?' : formatDuration(eta)}`)
  return parts.join(', ')
}

/** Plain lines: one per 10% of the docs or per `intervalMs`, whichever comes first, and the last. */
export class LineProgress implements ProgressReporter {
  private lastLineAt = 0
  private lastStep = 0

  constructor(
    private readonly sink: TextSink,
    private readonly verb: string,
    private readonly intervalMs = 10_000,
  ) {}

  update(state: ProgressState): void {
    const step = state.docsTotal > 0 ? Math.floor((10 * state.docsDone) / state.docsTotal) : 0
    const due =
      step > this.lastStep ||
      state.elapsedMs - this.lastLineAt >= this.intervalMs ||
      state.docsDone >= state.docsTotal
    if (!due) return
    this.lastStep = step
    this.lastLineAt = state.elapsedMs
    this.sink.write(`${formatProgressLine(this.verb, state)}\n`)
  }

  note(message: string): void {
    this.sink.write(`${message}\n`)
  }

  stop(): void {}
}

/** A redrawn bar for terminals: docs done/total, bytes saved, ETA. */
export class TtyProgress implements ProgressReporter {
  private readonly bar: SingleBar
  private started = false

  constructor(
    private readonly sink: NodeJS.WritableStream,
    verb: string,
  ) {
    this.bar = new SingleBar(
      {
        stream: sink,
        format: `${verb} {bar} {value}/{total} docs | saved {saved} | {elapsed} | ETA {etaText}`,
        hideCursor: true,
        clearOnComplete: false,
        // Our own ETA (by bytes), not cli-progress's (by docs): see estimateEtaMs.
        etaBuffer: 1,
        fps: 10,
      },
      Presets.shades_classic,
    )
  }

  update(state: ProgressState): void {
    const eta = estimateEtaMs(state)
    const payload = {
      saved: formatBytes(state.bytesSaved),
      elapsed: formatDuration(state.elapsedMs),
      etaText: eta === undefined ? '?' : formatDuration(eta),
    }
    if (!this.started) {
      this.started = true
      this.bar.start(state.docsTotal, state.docsDone, payload)
      return
    }
    this.bar.setTotal(Math.max(state.docsTotal, state.docsDone))
    this.bar.update(state.docsDone, payload)
  }

  note(message: string): void {
    // Move off the bar's line so the message stays readable; the bar redraws below it.
    this.sink.write(`\n${message}\n`)
  }

  stop(): void {
    if (this.started) this.bar.stop()
    this.started = false
  }
}

/** --quiet: no progress, but notes (an interrupt being honoured) still matter. */
export class SilentProgress implements ProgressReporter {
  constructor(private readonly sink: TextSink) {}

  update(): void {}

  note(message: string): void {
    this.sink.write(`${message}\n`)
  }

  stop(): void {}
}
