/**
 * The command line of `yjs-cluster-server simulate`, parsed into `simulateEditors` options.
 * Parsing only checks the shape of each flag (a number where a number belongs); the ranges
 * are checked once, by the library's own validation, so both speak with one voice.
 */

import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import type { SimulateOptions } from '../testing/sim-options.js'
import { formatUsage } from './usage.js'

export const SIMULATE_USAGE = formatUsage({
  synopsis: 'simulate --url ws://HOST:PORT[,ws://HOST2:PORT2] [options]',
  about: `Stock y-websocket editors type into docs on the given servers (editors of each doc are spread
over the URLs); then, after a settle period and without reconnecting anyone, every doc is
checked: all its editors hold the same content and every edit any of them made is present.`,
  options: [
    ['--url URLS', 'WebSocket URLs of the servers, comma-separated (repeatable)'],
    ['--docs N', 'number of docs (default 1)'],
    ['--editors N', 'editors per doc (default 3)'],
    ['--rate R', 'edits per second per editor (default 2: typing pace, a word at a time)'],
    ['--duration S', 'seconds of typing (default 10)'],
    ['--settle S', 'seconds to wait for convergence after typing (default 15)'],
    ['--seed N', 'seed of all randomness (default random; printed, to repeat a run)'],
    ['--prefix P', 'doc name prefix (default sim-<run id>/)'],
    ['--token T', 'a JWT every editor sends (?token=)'],
    ['--secret S', "the servers' AUTH_SECRET: mint a token per editor and doc (HS256)"],
    ['--chaos N', 'random disconnects per editor per minute: drops and offline periods (default 0)'],
    ['--offline S', 'longest offline period in seconds with --chaos (default 3)'],
    ['--json', 'print the verdict as JSON on stdout'],
    ['--quiet', 'no progress line on stderr'],
  ],
  exitCodes: `0 every doc converged and no edit was lost; 1 divergence or lost edits (the first
divergent doc and a diff are printed), or the editors could not connect; 2 bad command line;
130 interrupted (SIGINT/SIGTERM: typing stops, the run settles and prints its verdict)`,
})

export type ParsedSimulateArgs =
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string }
  | { kind: 'run'; options: SimulateOptions; json: boolean; quiet: boolean }

/** A decimal like `5` or `0.5`; Number() would also take ` 5`, `1e3`, `0x10` and `.5`. */
function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (/^-\d/.test(value)) throw new UsageError(`--${flag} must be 0 or more (got "${value}")`)
  if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`--${flag} must be a number (got "${value}")`)
  return Number(value)
}

/**
 * `--docs -1` as `--docs=-1`: parseArgs refuses a value that starts with a dash as
 * "ambiguous" (three lines about `--docs=-XYZ`); a negative number is the user's value, and
 * `number` then refuses it in our own words.
 */
function joinNegativeValues(argv: readonly string[], takesValue: ReadonlySet<string>): string[] {
  const joined: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const next = argv[i + 1]
    if (takesValue.has(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`)
      i += 1
    } else joined.push(arg)
  }
  return joined
}

const NUMERIC_FLAGS: ReadonlySet<string> = new Set(
  ['docs', 'editors', 'rate', 'duration', 'settle', 'seed', 'chaos', 'offline'].map((flag) => `--${flag}`),
)

export function parseSimulateArgs(argv: readonly string[]): ParsedSimulateArgs {
  let values: Record<string, string | string[] | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: joinNegativeValues(argv, NUMERIC_FLAGS),
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string', multiple: true },
        docs: { type: 'string' },
        editors: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        settle: { type: 'string' },
        seed: { type: 'string' },
        prefix: { type: 'string' },
        token: { type: 'string' },
        secret: { type: 'string' },
        chaos: { type: 'string' },
        offline: { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (error) {
    return { kind: 'usage-error', message: error instanceof Error ? error.message : String(error) }
  }
  if (values.help) return { kind: 'help' }
  try {
    const urls = ((values.url as string[] | undefined) ?? [])
      .flatMap((list) => list.split(','))
      .map((url) => url.trim())
      .filter(Boolean)
    if (urls.length === 0) throw new UsageError('--url is required (e.g. --url ws://127.0.0.1:1234)')
    const seconds = (flag: string) => {
      const value = number(flag, values[flag] as string | undefined)
      return value === undefined ? undefined : value * 1000
    }
    const chaos = number('chaos', values.chaos as string | undefined)
    const offlineMs = seconds('offline')
    if (offlineMs !== undefined && !chaos) throw new UsageError('--offline needs --chaos')
    const options: SimulateOptions = {
      urls,
      docs: number('docs', values.docs as string | undefined),
      editors: number('editors', values.editors as string | undefined),
      rate: number('rate', values.rate as string | undefined),
      durationMs: seconds('duration'),
      settleTimeoutMs: seconds('settle'),
      seed: number('seed', values.seed as string | undefined),
      docPrefix: values.prefix as string | undefined,
      token: values.token as string | undefined,
      secret: values.secret as string | undefined,
      ...(chaos ? { chaos: { disconnectsPerMinute: chaos, maxOfflineMs: offlineMs } } : {}),
    }
    return { kind: 'run', options, json: values.json === true, quiet: values.quiet === true }
  } catch (error) {
    return { kind: 'usage-error', message: error instanceof Error ? error.message : String(error) }
  }
}
