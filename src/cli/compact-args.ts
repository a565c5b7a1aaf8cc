/**
 * Command line of `yjs-cluster-server compact` (`npm run compact`): argv (and the environment, for the admin token) in, a
 * validated CompactArgs or a usage error out. Pure, so every rule is unit-testable.
 */
import { parseArgs } from 'node:util'
import { docNameProblem } from '../doc-name.js'
import { UsageError } from '../errors.js'
import { formatUsage } from './usage.js'

export const COMPACT_USAGE = formatUsage({
  synopsis: 'compact (--data-dir DIR | --url URL [--admin-token T]) [options]',
  moreSynopsis: ['(in a checkout: npm run compact -- ...)'],
  about: `Merges each document's update log into one snapshot, verifying before anything is deleted,
then has LevelDB give the freed space back (--data-dir).`,
  options: [
    ['--data-dir DIR', "the instance's LevelDB directory (the instance must be stopped)"],
    ['--url URL', "compact through a running instance's admin endpoint instead"],
    ['--admin-token T', 'its ADMIN_TOKEN (default: the ADMIN_TOKEN environment variable)'],
    ['--doc NAME', 'only this document'],
    ['--prefix P', 'only documents whose name starts with P'],
    ['--dry-run', 'compute and verify, write nothing'],
    ['--gc / --no-gc', 'garbage-collect deleted content (default: --gc)'],
    [
      '--history-keep N',
      "also prune each document's version history to N checkpoints (the\nHISTORY_KEEP rule: labelled ones kept longer) and free their disk",
    ],
    ['--verify', 'only check that every document decodes; list broken ones (needs --data-dir)'],
    ['--json', 'print the summary as JSON on stdout'],
    ['--quiet', 'no progress output'],
  ],
  exitCodes: `0 ok, 1 failures or broken docs, 2 usage error, 3 store locked by a running
instance, 4 permission denied on the data directory, 130 interrupted (rerun to finish)`,
})

export type CompactSource = { readonly kind: 'dir'; readonly dataDir: string } | AdminSource

export interface AdminSource {
  readonly kind: 'admin'
  readonly url: string
  readonly adminToken: string
}

export interface CompactArgs {
  readonly source: CompactSource
  readonly mode: 'compact' | 'verify'
  readonly doc: string | undefined
  readonly prefix: string | undefined
  readonly dryRun: boolean
  readonly gc: boolean
  readonly json: boolean
  readonly quiet: boolean
  /** --history-keep: prune version history to this many checkpoints per doc. */
  readonly historyKeep: number | undefined
}

export type ParsedArgs =
  | { readonly kind: 'run'; readonly args: CompactArgs }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage-error'; readonly message: string }

export { UsageError }

export function parseCompactArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedArgs {
  try {
    return parse(argv, env)
  } catch (error) {
    // parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION; ours are
    // UsageErrors. Anything else is a bug and must surface.
    const code = (error as { code?: string }).code
    if (error instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      return { kind: 'usage-error', message: (error as Error).message }
    }
    throw error
  }
}

function parse(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'data-dir': { type: 'string' },
      url: { type: 'string' },
      'admin-token': { type: 'string' },
      doc: { type: 'string' },
      prefix: { type: 'string' },
      'dry-run': { type: 'boolean' },
      gc: { type: 'boolean' },
      'no-gc': { type: 'boolean' },
      verify: { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      'history-keep': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return { kind: 'help' }

  const dataDir = values['data-dir']
  const url = values.url
  if ((dataDir === undefined) === (url === undefined)) {
    throw new UsageError('give exactly one of --data-dir DIR or --url URL')
  }
  if (dataDir !== undefined && dataDir.trim() === '') throw new UsageError('--data-dir is empty')
  if (values.doc !== undefined && values.prefix !== undefined) {
    throw new UsageError('give at most one of --doc and --prefix')
  }
  if (values.doc !== undefined) {
    const problem = docNameProblem(values.doc)
    if (problem) throw new UsageError(`--doc: ${problem}`)
  }
  if (values.gc && values['no-gc']) throw new UsageError('give at most one of --gc and --no-gc')
  if (values.verify && values['dry-run']) throw new UsageError('--verify never writes; drop --dry-run')
  if (values.verify && url !== undefined) {
    throw new UsageError('--verify reads the store directly: give --data-dir (of a stopped instance)')
  }

  let historyKeep: number | undefined
  const keepText = values['history-keep']
  if (keepText !== undefined) {
    if (!/^\d+$/.test(keepText) || Number(keepText) < 1 || !Number.isSafeInteger(Number(keepText))) {
      throw new UsageError(`--history-keep must be a whole number ≥ 1, got ${keepText}`)
    }
    if (values.verify) throw new UsageError('--verify never writes; drop --history-keep')
    historyKeep = Number(keepText)
  }

  let source: CompactSource
  if (url !== undefined) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new UsageError(`--url is not a URL: ${url}`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UsageError(`--url must be http:// or https://, got ${parsed.protocol}`)
    }
    const adminToken = values['admin-token'] ?? env.ADMIN_TOKEN
    if (!adminToken) throw new UsageError('--url needs --admin-token (or ADMIN_TOKEN in the environment)')
    source = { kind: 'admin', url: parsed.href.replace(/\/+$/, ''), adminToken }
  } else {
    if (values['admin-token'] !== undefined) throw new UsageError('--admin-token only goes with --url')
    source = { kind: 'dir', dataDir: dataDir! }
  }

  return {
    kind: 'run',
    args: {
      source,
      mode: values.verify ? 'verify' : 'compact',
      doc: values.doc,
      prefix: values.prefix,
      dryRun: values['dry-run'] ?? false,
      gc: !values['no-gc'],
      json: values.json ?? false,
      quiet: values.quiet ?? false,
      historyKeep,
    },
  }
}
