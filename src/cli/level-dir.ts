/**
 * The check every offline command that only reads a LevelDB directory makes first. LevelDB
 * creates the directory (with LOCK and LOG) even when asked not to create a store, so a
 * mistyped `--data-dir` would leave a stray directory behind and fail with LevelDB's own
 * "does not exist (create_if_missing is false)"; the CURRENT file is what every store has.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** Why `dir` is not a LevelDB store to read (one line, no prefix), or undefined when it is one. */
export function notALevelDir(dir: string): string | undefined {
  if (existsSync(join(dir, 'CURRENT'))) return undefined
  const why = existsSync(dir) ? 'no CURRENT file' : 'it does not exist'
  return `${dir} is not a LevelDB data directory (${why})`
}
