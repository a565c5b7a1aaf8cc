import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CloseCode } from '../../src/protocol/close-codes.js'

describe('close codes', () => {
  it('are documented exactly as defined (docs/protocol.md)', () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
    const documented = new Map<string, number>()
    for (const match of doc.matchAll(/^\|\s*(\d{4})\s*\|\s*(\w+)\s*\|/gm))
      documented.set(match[2]!, Number(match[1]))
    expect(Object.fromEntries(documented)).toEqual({ ...CloseCode })
  })

  it('are unique', () => {
    const codes = Object.values(CloseCode)
    expect(new Set(codes).size).toBe(codes.length)
  })
})
