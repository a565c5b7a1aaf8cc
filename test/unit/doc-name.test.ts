import { describe, expect, it } from 'vitest'
import { decodeDocName, docNameFromPath, docNameProblem } from '../../src/doc-name.js'

describe('doc names', () => {
  it('accepts names with slashes, unicode and spaces', () => {
    for (const name of ['a', 'team/notes/2026', 'Grüße 👋', 'x'.repeat(512)])
      expect(docNameProblem(name)).toBeUndefined()
  })

  it('rejects empty, too long, control characters and lone surrogates', () => {
    expect(docNameProblem('')).toMatch(/empty/)
    expect(docNameProblem('x'.repeat(513))).toMatch(/longer/)
    expect(docNameProblem('é'.repeat(257))).toMatch(/longer/)
    expect(docNameProblem('a\u0000b')).toMatch(/control/)
    expect(docNameProblem('a\nb')).toMatch(/control/)
    expect(docNameProblem('a\uD800b')).toMatch(/Unicode/)
  })

  it('decodes the request path without the query', () => {
    expect(docNameFromPath('/team%2Fnotes?token=x')).toBe('team/notes')
    expect(docNameFromPath('/a/b/c')).toBe('a/b/c')
    expect(docNameFromPath('/%E0%A4%A')).toBeUndefined()
    // Stock y-websocket sends names unencoded: a stray % is literal (issue 10).
    expect(docNameFromPath('/50%%20plan')).toBe('50% plan')
    expect(docNameFromPath('/100%')).toBe('100%')
    expect(docNameFromPath('/%zz%41')).toBe('%zzA')
    expect(docNameFromPath('/a%25b')).toBe('a%b')
    expect(docNameFromPath('/%C3%28')).toBeUndefined()
    expect(docNameFromPath('/%ED%A0%80')).toBeUndefined()
    expect(docNameFromPath('no-slash')).toBeUndefined()
  })

  it('decodeDocName is the one decoder: the path minus its `/` decodes exactly like it', () => {
    for (const encoded of ['team%2Fnotes', '50%%20plan', '%zz%41', 'a%25b', '%C3%28', '%E0%A4%A', 'x'])
      expect(docNameFromPath(`/${encoded}?q=1`), encoded).toBe(decodeDocName(encoded))
    expect(decodeDocName('%C3%28')).toBeUndefined()
  })
})
