/**
 * `yjs-cluster-server import`: merges NDJSON (as `export` writes it) or a y-leveldb store of
 * the reference server into a running instance (`POST /admin/import`, streamed: editors see
 * the changes) or offline into a stopped instance's directory. The source is streamed in
 * both cases: memory holds about one doc at a time.
 */
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import type { ReadableStream } from 'node:stream/web'
import { offlineAdapters } from '../adapters.js'
import {
  encodeBackupLine,
  ImportStoppedError,
  importBackup,
  maxImportLineBytes,
} from '../document/backup-format.js'
import { StoreLockedError } from '../storage/level-doc-store.js'
import { readYLeveldb } from '../storage/y-leveldb-reader.js'
import { AdminRequestError, adminFetch } from './admin-fetch.js'
import { IMPORT_USAGE, type ImportArgs, parseImportArgs } from './backup-args.js'
import type { CliCommand, CliContext } from './command.js'
import { ExitCode, exitCodeOf } from './exit-codes.js'
import { summary } from './export-command.js'
import { answerHelpOrUsage } from './usage.js'

/** The server's default MAX_DOC_BYTES bounds one line of an offline import. */
const OFFLINE_MAX_DOC_BYTES = 64 * 1024 * 1024

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'merge NDJSON (or --from-y-leveldb DIR) into docs (online through --url, or offline --data-dir)',
  async run(argv, context) {
    const parsed = parseImportArgs(argv, context.env)
    if (parsed.kind !== 'run') return answerHelpOrUsage(parsed, IMPORT_USAGE, context)!
    return runImport(parsed.args, context)
  },
}

interface Tally {
  docs: number
  bytes: number
}

async function runImport(args: ImportArgs, context: CliContext): Promise<number> {
  const tally: Tally = { docs: 0, bytes: 0 }
  const started = performance.now()
  const skipped: string[] = []
  try {
    const lines = sourceLines(args, tally, (reason) => skipped.push(reason), context.signal)
    if (args.target.kind === 'dir') await importDir(args.target.dataDir, lines, tally)
    else await importUrl(args.target, lines, tally)
  } catch (error) {
    if (error instanceof ImportStoppedError) {
      context.stderr.write(
        `import: stopped at line ${error.line}: ${error.reason}; ${error.imported} docs were imported before it\n`,
      )
      return ExitCode.failure
    }
    if (error instanceof AdminRequestError && typeof error.body?.line === 'number') {
      context.stderr.write(
        `import: ${error.message}; ${String(error.body.imported)} docs were imported before it\n`,
      )
      return ExitCode.failure
    }
    const hint = error instanceof StoreLockedError ? '; stop it, or import through it with --url' : ''
    context.stderr.write(`import: ${error instanceof Error ? error.message : String(error)}${hint}\n`)
    return exitCodeOf(error)
  }
  for (const reason of skipped) context.stderr.write(`import: skipped ${reason}\n`)
  context.stdout.write(`${summary('imported', tally, (performance.now() - started) / 1000)}\n`)
  return context.signal.aborted ? ExitCode.interrupted : ExitCode.ok
}

/** The source as NDJSON bytes: the file or stdin as is, or a y-leveldb store converted doc by doc. */
function sourceLines(
  args: ImportArgs,
  tally: Tally,
  onSkipped: (reason: string) => void,
  signal: AbortSignal,
): AsyncIterable<Buffer | string> {
  if (args.source.kind === 'ndjson') {
    const input = args.source.file ? createReadStream(args.source.file) : process.stdin
    return counted(input, tally)
  }
  const dir = args.source.dir
  return counted(
    (async function* () {
      for await (const doc of readYLeveldb(dir, onSkipped)) {
        if (signal.aborted) return
        yield encodeBackupLine(doc)
      }
    })(),
    tally,
  )
}

async function* counted(
  chunks: AsyncIterable<Buffer | string>,
  tally: Tally,
): AsyncGenerator<Buffer | string> {
  for await (const chunk of chunks) {
    tally.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
    yield chunk
  }
}

async function importDir(
  dataDir: string,
  lines: AsyncIterable<Buffer | string>,
  tally: Tally,
): Promise<void> {
  // Automatic compaction stays on: a big import leaves snapshots, not thousands of log entries.
  const adapters = offlineAdapters(dataDir, { readOnly: false, autoCompact: true })
  const { store } = adapters
  try {
    await store.open()
    tally.docs = await importBackup(lines, {
      maxLineBytes: maxImportLineBytes(OFFLINE_MAX_DOC_BYTES),
      apply: (doc) => store.append(doc.name, doc.update),
    })
  } finally {
    await adapters.close()
  }
}

async function importUrl(
  target: { url: string; adminToken: string },
  lines: AsyncIterable<Buffer | string>,
  tally: Tally,
): Promise<void> {
  const body = Readable.toWeb(Readable.from(lines)) as ReadableStream<Uint8Array>
  const response = await adminFetch(target, 'POST', '/admin/import', {
    body: body as unknown as globalThis.ReadableStream<Uint8Array>,
    contentType: 'application/x-ndjson',
  })
  const answer = (await response.json()) as { imported?: number }
  tally.docs = answer.imported ?? 0
}
