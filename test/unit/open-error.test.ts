import { describe, expect, it } from 'vitest'
import { StoreAccessError, StoreLockedError, storeOpenError } from '../../src/storage/open-error.js'

const levelError = (code: string, message: string) =>
  Object.assign(new Error('Database failed to open'), {
    code: 'LEVEL_DATABASE_NOT_OPEN',
    cause: { code, message },
  })

describe('storeOpenError', () => {
  it('calls a lock a lock only when LevelDB says so', () => {
    const error = storeOpenError(
      '/d',
      levelError('LEVEL_LOCKED', 'IO error: lock /d/LOCK: already held by process'),
    )
    expect(error).toBeInstanceOf(StoreLockedError)
  })

  it('names a permission problem on the LOCK file as such, not as a lock (issue 10)', () => {
    const error = storeOpenError('/d', levelError('LEVEL_IO_ERROR', 'IO error: /d/LOCK: Permission denied'))
    expect(error).toBeInstanceOf(StoreAccessError)
    expect(error.message).toMatch(/^permission denied \(EACCES\) on DATA_DIR \/d/)
    const mkdir = storeOpenError(
      '/d',
      levelError('EACCES', "EACCES: permission denied, mkdir '/d'"),
      'the y-leveldb store',
    )
    expect(mkdir.message).toMatch(/on the y-leveldb store \/d/)
  })

  it('passes any other cause through with its code', () => {
    const error = storeOpenError('/d', levelError('LEVEL_IO_ERROR', 'IO error: /d/LOCK: Is a directory'))
    expect(error).not.toBeInstanceOf(StoreLockedError)
    expect(error.message).toBe(
      'cannot open LevelDB at DATA_DIR /d: IO error: /d/LOCK: Is a directory (LEVEL_IO_ERROR)',
    )
  })
})
