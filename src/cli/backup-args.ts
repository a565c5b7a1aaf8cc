/**
 * Command lines of the `export` and `import` subcommands: argv (and ADMIN_TOKEN from the
 * environment) in, validated arguments or a usage error out. Pure, so every rule is testable.
 */
import { parseArgs } from 'node:util'
import { docNameProblem } from '../doc-name.js'
import type { AdminSource } from './compact-args.js'
import { formatUsage } from './usage.js'

export const EXPORT_USAGE = formatUsage({
  synopsis: 'export (--url URL [--admin-token T] | --data-dir DIR) [options]',
  about: `Writes every stored document as NDJSON lines {"name":…,"update":"<base64>"} (an online
backup through a running instance, or offline from a stopped instance's directory).`,
  options: [
    ['--url URL', 'a running instance (GET /admin/export)'],
    ['--admin-token T', 'its ADMIN_TOKEN (default: the ADMIN_TOKEN environment variable)'],
    ['--data-dir DIR', "a stopped instance's LevelDB directory instead"],
    ['--prefix P', 'only documents whose name starts with P'],
    ['--out FILE', 'write here instead of stdout'],
  ],
  exitCodes: `0 ok, 1 failure, 2 usage error, 3 store locked by a running instance (use --url),
4 permission denied on the directory`,
})

export const IMPORT_USAGE = formatUsage({
  synopsis: 'import (--url URL [--admin-token T] | --data-dir DIR) [--in FILE | --from-y-leveldb DIR]',
  about: `Merges documents into a running instance (POST /admin/import: editors see the changes) or
into a stopped instance's directory. Yjs merges are idempotent: importing twice is harmless.`,
  options: [
    ['--url URL', 'a running instance'],
    ['--admin-token T', 'its ADMIN_TOKEN (default: the ADMIN_TOKEN environment variable)'],
    ['--data-dir DIR', "a stopped instance's LevelDB directory instead"],
    ['--in FILE', 'NDJSON as written by export (default: stdin)'],
    ['--from-y-leveldb DIR', 'migrate a store of the reference server (y-websocket YPERSISTENCE)'],
  ],
  notes: `A malformed line stops the import: the line number and how many documents were imported
before it are printed.`,
  exitCodes: `0 ok, 1 failure or bad line, 2 usage error, 3 store locked, 4 permission denied on
the directory`,
})

export type BackupTarget = { readonly kind: 'dir'; readonly dataDir: string } | AdminSource

export interface ExportArgs {
  readonly target: BackupTarget
  readonly prefix: string | undefined
  readonly out: string | undefined
}

export interface ImportArgs {
  readonly target: BackupTarget
  readonly source:
    | { readonly kind: 'ndjson'; readonly file: string | undefined }
    | { readonly kind: 'y-leveldb'; readonly dir: string }
}

export type Parsed<A> =
  | { readonly kind: 'run'; readonly args: A }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage-error'; readonly message: string }

const TARGET_OPTIONS = {
  url: { type: 'string' },
  'admin-token': { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

function target(
  values: { url?: string; 'admin-token'?: string; 'data-dir'?: string },
  env: Readonly<Record<string, string | undefined>>,
): BackupTarget | string {
  const { url, 'data-dir': dataDir } = values
  if ((url === undefined) === (dataDir === undefined)) return 'give exactly one of --url or --data-dir'
  if (dataDir !== undefined) {
    if (dataDir === '') return '--data-dir must not be empty'
    if (values['admin-token'] !== undefined) return '--admin-token goes with --url'
    return { kind: 'dir', dataDir }
  }
  let parsed: URL
  try {
    parsed = new URL(url!)
  } catch {
    return `--url is not a URL: ${url}`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return '--url must be http:// or https://'
  const adminToken = values['admin-token'] ?? env.ADMIN_TOKEN
  if (!adminToken) return '--url needs --admin-token or the ADMIN_TOKEN environment variable'
  return { kind: 'admin', url: parsed.origin, adminToken }
}

function parse<A>(run: () => A | string | 'help'): Parsed<A> {
  try {
    const result = run()
    if (result === 'help') return { kind: 'help' }
    if (typeof result === 'string') return { kind: 'usage-error', message: result }
    return { kind: 'run', args: result }
  } catch (error) {
    // parseArgs throws TypeErrors (unknown option, missing value): usage errors, said as such.
    return { kind: 'usage-error', message: error instanceof Error ? error.message : String(error) }
  }
}

export function parseExportArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Parsed<ExportArgs> {
  return parse(() => {
    const { values } = parseArgs({
      args: [...argv],
      options: { ...TARGET_OPTIONS, prefix: { type: 'string' }, out: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    })
    if (values.help) return 'help'
    const where = target(values, env)
    if (typeof where === 'string') return where
    if (values.prefix !== undefined && values.prefix !== '' && docNameProblem(values.prefix))
      return '--prefix must be a valid document name prefix'
    return { target: where, prefix: values.prefix || undefined, out: values.out }
  })
}

export function parseImportArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Parsed<ImportArgs> {
  return parse(() => {
    const { values } = parseArgs({
      args: [...argv],
      options: { ...TARGET_OPTIONS, in: { type: 'string' }, 'from-y-leveldb': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    })
    if (values.help) return 'help'
    const where = target(values, env)
    if (typeof where === 'string') return where
    const yLeveldb = values['from-y-leveldb']
    if (yLeveldb !== undefined && values.in !== undefined) return 'give --in or --from-y-leveldb, not both'
    if (yLeveldb === '') return '--from-y-leveldb must not be empty'
    return {
      target: where,
      source:
        yLeveldb !== undefined ? { kind: 'y-leveldb', dir: yLeveldb } : { kind: 'ndjson', file: values.in },
    }
  })
}
