/**
 * Why a LevelDB directory could not be opened, named for an operator. LevelDB reports a
 * permission problem on its LOCK file as "IO error: <dir>/LOCK: Permission denied", which a
 * match on "lock" used to misreport as "in use by another process"; only classic-level's
 * LEVEL_LOCKED code (another process holds the lock) means locked.
 */
import { mkdir, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

import { StoreAccessError, StoreLockedError, StoreOpenError } from '../errors.js'

/** Lock held elsewhere / permission denied: catalogued in errors.ts (CLI exit codes 3 and 4). */
export { StoreAccessError, StoreLockedError }

interface LevelCause {
  readonly code?: string
  readonly message?: string
}

/**
 * Turns a failed `db.open()` into the error that names its real cause. `what` names the
 * directory for the operator (the setting or flag it came from).
 */
export function storeOpenError(location: string, error: unknown, what = 'DATA_DIR'): Error {
  const cause: LevelCause = (error as { cause?: LevelCause }).cause ?? (error as LevelCause)
  const detail = cause.message ?? String(error)
  if (cause.code === 'LEVEL_LOCKED' || /already held by process/i.test(detail)) {
    return new StoreLockedError(`${location} is in use by another process (LevelDB lock held)`)
  }
  if (
    cause.code === 'EACCES' ||
    cause.code === 'EPERM' ||
    /permission denied|operation not permitted/i.test(detail)
  ) {
    const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : ''
    return new StoreAccessError(
      `permission denied (EACCES) on ${what} ${location}: this user${uid} cannot read and write it: ${detail}`,
    )
  }
  return new StoreOpenError(
    `cannot open LevelDB at ${what} ${location}: ${detail}${cause.code ? ` (${cause.code})` : ''}`,
  )
}

/**
 * Makes sure `location` is a directory, creating missing ones one level at a time, and
 * throws one line naming `what` and the reason when it cannot be. LevelDB's own
 * `mkdir(location, { recursive: true })` must never see a path it cannot create: Node's
 * recursive mkdir spins forever (99 % CPU in the thread pool, SIGTERM ignored) where
 * mkdir answers ENOENT although the parent exists, as under /proc.
 */
export async function ensureStoreDirectory(location: string, what = 'DATA_DIR'): Promise<void> {
  const missing: string[] = []
  for (let dir = resolve(location); ; dir = dirname(dir)) {
    const kind = await pathKind(dir, location, what)
    if (kind === 'directory') break
    if (kind === 'other') {
      const which = dir === resolve(location) ? 'it' : `its parent ${dir}`
      throw new StoreOpenError(
        `cannot open LevelDB at ${what} ${location}: ${which} exists and is not a directory`,
      )
    }
    missing.unshift(dir)
    if (dirname(dir) === dir) break
  }
  for (const dir of missing) {
    try {
      await mkdir(dir)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // Created meanwhile by someone else: fine if it is a directory (checked on the next turn).
      if (code === 'EEXIST' && (await pathKind(dir, location, what)) === 'directory') continue
      if (code === 'EACCES' || code === 'EPERM') throw storeOpenError(location, error, what)
      throw new StoreOpenError(
        `cannot open LevelDB at ${what} ${location}: mkdir ${dir} failed (${code ?? describe(error)}); ` +
          'choose a directory on a writable file system',
      )
    }
  }
}

async function pathKind(
  dir: string,
  location: string,
  what: string,
): Promise<'directory' | 'other' | 'missing'> {
  try {
    return (await stat(dir)).isDirectory() ? 'directory' : 'other'
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // ENOTDIR: some parent is a file; the walk up finds and names it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'
    if (code === 'EACCES' || code === 'EPERM') throw storeOpenError(location, error, what)
    throw new StoreOpenError(
      `cannot open LevelDB at ${what} ${location}: stat ${dir} failed (${code ?? describe(error)})`,
    )
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
