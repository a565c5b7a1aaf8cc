/**
 * Why a LevelDB directory could not be opened, named for an operator. LevelDB reports a
 * permission problem on its LOCK file as "IO error: <dir>/LOCK: Permission denied", which a
 * match on "lock" used to misreport as "in use by another process"; only classic-level's
 * LEVEL_LOCKED code (another process holds the lock) means locked.
 */

/** Another process (a running instance) holds the directory's LevelDB lock. */
export class StoreLockedError extends Error {
  override name = 'StoreLockedError'
}

/** This process may not read or write the directory (EACCES / EPERM). */
export class StoreAccessError extends Error {
  override name = 'StoreAccessError'
}

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
  return new Error(`cannot open LevelDB at ${location}: ${detail}${cause.code ? ` (${cause.code})` : ''}`)
}
