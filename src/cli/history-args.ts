/**
 * Command lines of `history` and `restore` (pure: argv and environment in, validated
 * arguments or a usage error out).
 */
import { parseArgs } from 'node:util'
import { docNameProblem } from '../doc-name.js'
import { CHECKPOINT_ID } from '../history/checkpoint-store.js'
import type { AdminSource } from './compact-args.js'
import { formatUsage } from './usage.js'

export const HISTORY_USAGE = formatUsage({
  synopsis: 'history --url URL --doc NAME [--admin-token T] [--json]',
  about: "Lists a document's versions (checkpoints) on a running instance, newest first.",
  options: [
    ['--url URL', 'the instance (http://HOST:PORT, or its ADMIN_PORT when set)'],
    ['--admin-token T', 'its ADMIN_TOKEN (default: the ADMIN_TOKEN environment variable)'],
    ['--doc NAME', 'the document'],
    ['--json', 'print the list as JSON'],
  ],
  exitCodes: '0 ok, 1 failed (unreachable, refused), 2 usage error',
})

export const RESTORE_USAGE = formatUsage({
  synopsis: 'restore --url URL --doc NAME --version ID [--admin-token T] [--json]',
  about: `Makes a document's content that of one of its versions, as a new change every connected
editor sees (a checkpoint of the current state is taken first; nothing is rewritten).`,
  options: [
    ['--url URL', 'the instance holding the version (http://HOST:PORT or ADMIN_PORT)'],
    ['--admin-token T', 'its ADMIN_TOKEN (default: the ADMIN_TOKEN environment variable)'],
    ['--doc NAME', 'the document'],
    ['--version ID', 'a version id from `history`'],
    ['--json', 'print the answer as JSON'],
  ],
  exitCodes: '0 restored, 1 failed (unknown version, unreachable, refused), 2 usage error',
})

export interface HistoryArgs {
  readonly endpoint: Pick<AdminSource, 'url' | 'adminToken'>
  readonly doc: string
  readonly version: string | undefined
  readonly json: boolean
}

export type ParsedHistoryArgs =
  | { readonly kind: 'run'; readonly args: HistoryArgs }
  | { readonly kind: 'help' }
  | { readonly kind: 'usage-error'; readonly message: string }

/** `withVersion`: the restore command (needs --version). */
export function parseHistoryArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  withVersion: boolean,
): ParsedHistoryArgs {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        'admin-token': { type: 'string' },
        doc: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...(withVersion ? { version: { type: 'string' as const } } : {}),
      },
    }).values
  } catch (error) {
    return { kind: 'usage-error', message: (error as Error).message }
  }
  if (values.help) return { kind: 'help' }
  const usage = (message: string): ParsedHistoryArgs => ({ kind: 'usage-error', message })
  if (typeof values.url !== 'string') return usage('--url URL is required')
  const url = adminUrl(values.url)
  if ('problem' in url) return usage(url.problem)
  const adminToken = (values['admin-token'] as string | undefined) ?? env.ADMIN_TOKEN
  if (!adminToken) return usage('--admin-token (or ADMIN_TOKEN in the environment) is required')
  if (typeof values.doc !== 'string') return usage('--doc NAME is required')
  const problem = docNameProblem(values.doc)
  if (problem) return usage(`--doc: ${problem}`)
  let version: string | undefined
  if (withVersion) {
    if (typeof values.version !== 'string') return usage('--version ID is required')
    if (!CHECKPOINT_ID.test(values.version)) return usage(`--version: not a version id: ${values.version}`)
    version = values.version
  }
  return {
    kind: 'run',
    args: { endpoint: { url: url.url, adminToken }, doc: values.doc, version, json: values.json === true },
  }
}

/** `/admin/docs/<doc>/versions`, the doc name as one path segment. */
export function versionsPath(doc: string): string {
  return `/admin/docs/${encodeURIComponent(doc)}/versions`
}

/** Parses and checks `--url`; returns the URL without a trailing slash, or a problem. */
function adminUrl(raw: string): { url: string } | { problem: string } {
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    return { problem: `--url is not a URL: ${raw}` }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { problem: `--url must be http:// or https://, got ${parsed.protocol}` }
  }
  return { url: parsed.href.replace(/\/+$/, '') }
}
