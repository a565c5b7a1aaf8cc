/**
 * `yjs-cluster-server import`: merges NDJSON (as `export` writes it) or a y-leveldb store of
 * the reference server into a running instance (`POST /admin/import`, streamed: editors see
 * the changes) or offline into a stopped instance's directory. The source is streamed in
 * both cases: memory holds about one doc at a time.
 */
import { createReadStream } from 'node:fs'
import { open, rename, rm, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
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
import { owedMarks } from '../storage/owed-marks.js'
import { readYLeveldb } from '../storage/y-leveldb-reader.js'
import { AdminRequestError, adminFetch } from './admin-fetch.js'
import { IMPORT_USAGE, type ImportArgs, parseImportArgs } from './backup-args.js'
import type { CliCommand, CliContext } from './command.js'
import { ExitCode, exitCodeOf } from './exit-codes.js'
import { summary } from './export-command.js'
import { notALevelDir } from './level-dir.js'
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
  // Checked before the target is touched: a typo in --in or --from-y-leveldb must neither
  // create a data directory nor be blamed on the instance.
  const sourceProblem = await unreadableSource(args.source)
  if (sourceProblem !== undefined) {
    context.stderr.write(`import: ${sourceProblem}\n`)
    return ExitCode.failure
  }
  const source = { failure: undefined as SourceReadError | undefined }
  const dirTarget: DirTarget = { fresh: false }
  // A new directory is all or nothing (importDir): say so instead of counting what was lost.
  const before = (imported: unknown) =>
    dirTarget.fresh && args.target.kind === 'dir'
      ? `nothing was written to ${args.target.dataDir} (it did not exist; run again once the input is fixed)`
      : `${String(imported)} docs were imported before it`
  try {
    const lines = sourceLines(args, tally, (reason) => skipped.push(reason), context.signal, source)
    if (args.target.kind === 'dir') {
      await importDir(args.target.dataDir, lines, tally, dirTarget, () => !context.signal.aborted)
    } else await importUrl(args.target, lines, tally)
  } catch (caught) {
    // Online, a read error of the source surfaces as the request's failure ("cannot reach").
    const error = source.failure ?? caught
    if (error instanceof ImportStoppedError) {
      context.stderr.write(
        `import: stopped at line ${error.line}: ${error.reason}; ${before(error.imported)}\n`,
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
  if (context.signal.aborted && dirTarget.fresh) {
    context.stderr.write(`import: interrupted; ${before(tally.docs)}\n`)
    return ExitCode.interrupted
  }
  context.stdout.write(`${summary('imported', tally, (performance.now() - started) / 1000)}\n`)
  return context.signal.aborted ? ExitCode.interrupted : ExitCode.ok
}

/** The source cannot be read (a file that failed half-way, say EISDIR or EIO). */
class SourceReadError extends Error {
  override name = 'SourceReadError'
}

/** Why the source cannot be read at all (one line), or undefined. */
async function unreadableSource(source: ImportArgs['source']): Promise<string | undefined> {
  if (source.kind === 'y-leveldb') return notALevelDir(source.dir)
  if (source.file === undefined) return undefined
  try {
    const handle = await open(source.file, 'r')
    const isDirectory = (await handle.stat()).isDirectory()
    await handle.close()
    return isDirectory ? `cannot read ${source.file}: it is a directory` : undefined
  } catch (error) {
    return `cannot read ${source.file}: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** The source as NDJSON bytes: the file or stdin as is, or a y-leveldb store converted doc by doc. */
function sourceLines(
  args: ImportArgs,
  tally: Tally,
  onSkipped: (reason: string) => void,
  signal: AbortSignal,
  source: { failure: SourceReadError | undefined },
): AsyncIterable<Buffer | string> {
  if (args.source.kind === 'ndjson') {
    const file = args.source.file
    if (file === undefined) return counted(process.stdin, tally)
    // The stream is created when reading starts, inside the loop that listens to its errors.
    return counted(
      (async function* () {
        try {
          yield* createReadStream(file) as AsyncIterable<Buffer>
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          source.failure = new SourceReadError(`cannot read ${file}: ${message}`)
          throw source.failure
        }
      })(),
      tally,
    )
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

/** What an offline import did to its target, for the error message. */
interface DirTarget {
  /** The directory did not exist: the import built it aside and created nothing on failure. */
  fresh: boolean
}

/**
 * Imports into DIR. An existing DIR is merged into in place: a failure midway keeps the docs
 * before it (as online; the message counts them, and importing again is harmless: Yjs updates
 * merge). A DIR that does not exist is built in a staging directory beside it and renamed
 * into place only once every line was imported (and not interrupted): a failure midway
 * removes the staging directory and any parent the import created, so nothing is left that
 * looks like a restored instance but holds half of the backup.
 */
async function importDir(
  dataDir: string,
  lines: AsyncIterable<Buffer | string>,
  tally: Tally,
  target: DirTarget,
  complete: () => boolean,
): Promise<void> {
  const location = resolve(dataDir)
  target.fresh = !(await exists(location))
  const missingParents = target.fresh ? await missingAncestors(dirname(location)) : []
  const staging = join(dirname(location), `.${basename(location)}.importing-${process.pid}`)
  // Automatic compaction stays on: a big import leaves snapshots, not thousands of log entries.
  const adapters = offlineAdapters(target.fresh ? staging : location, { readOnly: false, autoCompact: true })
  const { store } = adapters
  let done = false
  try {
    await store.open()
    // No Redis is reached from here: each doc is marked owed, so the instance publishes it to
    // the cluster when it next runs with Redis. Without the mark the other instances never
    // saw an imported doc (404, empty for their clients) until it was opened on this one.
    // Marked before its update is written: an interrupted import leaves no unmarked doc. Not
    // fsynced one by one: LevelDB's log keeps the order, so no update survives a crash without
    // its mark (1,000 small docs on the shared box: 0.09-0.20 s without marks, 0.28-0.40 s
    // with these, 0.5-2.8 s with an fsync per mark).
    const owed = owedMarks(store, { sync: false })
    tally.docs = await importBackup(lines, {
      maxLineBytes: maxImportLineBytes(OFFLINE_MAX_DOC_BYTES),
      apply: async (doc) => {
        await owed.add(doc.name)
        await store.append(doc.name, doc.update)
      },
    })
    done = complete()
  } finally {
    await adapters.close()
    if (target.fresh) {
      if (done) await rename(staging, location)
      else await removeCreated(staging, missingParents)
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

/** `dir` and its ancestors that do not exist yet, deepest first. */
async function missingAncestors(dir: string): Promise<string[]> {
  const missing: string[] = []
  for (let at = dir; !(await exists(at)); at = dirname(at)) {
    missing.push(at)
    if (dirname(at) === at) break
  }
  return missing
}

/** Removes a failed import's staging directory, then the parents it created (only if empty). */
async function removeCreated(staging: string, parents: readonly string[]): Promise<void> {
  await rm(staging, { recursive: true, force: true })
  for (const parent of parents) {
    try {
      await rmdir(parent)
    } catch {
      // Not empty (something else wrote there meanwhile) or already gone: leave it.
      break
    }
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
