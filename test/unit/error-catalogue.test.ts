import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, YwsError } from '../../src/errors.js'

describe('the error catalogue', () => {
  it('docs/library.md lists every code with its status, and no others', async () => {
    const doc = await readFile(new URL('../../docs/library.md', import.meta.url), 'utf8')
    const documented = Object.fromEntries(
      [...doc.matchAll(/^\|\s*`(YWS_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [m[1]!, Number(m[2])]),
    )
    const catalogued = Object.fromEntries(
      Object.entries(ErrorCodes).map(([code, entry]) => [code, entry.status]),
    )
    expect(documented).toEqual(catalogued)
  })

  it('errors carry their code, status, message and cause', () => {
    const cause = new Error('disk on fire')
    const error = new YwsError('YWS_ERR_DOC_UNAVAILABLE', 'handbook', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe('YWS_ERR_DOC_UNAVAILABLE')
    expect(error.status).toBe(503)
    expect(error.message).toBe('document unavailable: handbook')
    expect(error.cause).toBe(cause)
  })
})
