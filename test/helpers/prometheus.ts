/**
 * A small parser for the Prometheus text exposition format (version 0.0.4), strict enough
 * that a malformed /metrics body fails the test: every sample line must be
 * `name{label="value",...} number`, every name must have a TYPE line.
 */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Exposition {
  readonly types: ReadonlyMap<string, string>
  readonly samples: readonly Sample[]
  /** Sum of the samples of `name` whose labels include `labels`. */
  value(name: string, labels?: Record<string, string>): number
  /** Every metric family name (from TYPE lines). */
  families(): Set<string>
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created']

export function parsePrometheus(text: string): Exposition {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(line)
      if (!meta) throw new Error(`line ${index + 1}: bad comment: ${line}`)
      if (meta[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3] ?? '')) {
          throw new Error(`line ${index + 1}: bad type: ${line}`)
        }
        types.set(meta[2]!, meta[3]!)
      }
      continue
    }
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`line ${index + 1}: bad sample: ${line}`)
    const labels: Record<string, string> = {}
    if (match[2]) {
      LABEL.lastIndex = 0
      while (LABEL.lastIndex < match[2].length) {
        const start = LABEL.lastIndex
        const label = LABEL.exec(match[2])
        if (!label || label.index !== start) throw new Error(`line ${index + 1}: bad labels: ${line}`)
        labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
      }
    }
    const value = parseValue(match[3]!)
    if (value === undefined) throw new Error(`line ${index + 1}: bad value: ${line}`)
    const name = match[1]!
    const family = types.has(name)
      ? name
      : SUFFIXES.map((s) => name.slice(0, -s.length)).find(
          (base, i) => name.endsWith(SUFFIXES[i]!) && types.has(base),
        )
    if (!family) throw new Error(`line ${index + 1}: sample ${name} has no TYPE line`)
    samples.push({ name, labels, value })
  }
  return {
    types,
    samples,
    value: (name, labels = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0),
    families: () => new Set(types.keys()),
  }
}

/** Sample values parse like Go's ParseFloat, as Prometheus does: NaN/Inf in any case. */
function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase()
  if (lower === 'nan') return Number.NaN
  if (/^[+-]?inf(inity)?$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined
  return Number(text)
}

/** The current value of one prom-client metric (summed over samples matching `labels`). */
export async function metricValue(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get()
  return values
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0)
}
