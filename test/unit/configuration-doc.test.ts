import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { SETTINGS } from '../../src/config/config.js'

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8')

describe('docs/configuration.md', () => {
  it('lists every environment variable config.ts reads, and no others', async () => {
    const doc = await read('docs/configuration.md')
    const read_ = new Set(Object.values(SETTINGS).map((setting) => setting.env))
    const documented = new Set([...doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]!))
    expect(read_.size).toBeGreaterThan(20)
    expect(
      [...read_].filter((name) => !documented.has(name)),
      'undocumented',
    ).toEqual([])
    expect(
      [...documented].filter((name) => !read_.has(name)),
      'documented but not read',
    ).toEqual([])
  })
})
