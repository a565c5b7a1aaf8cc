import { describe, expect, it } from 'vitest'
import { parseTtl } from '../../src/cli/token-command.js'
import { configFor, defaultInstanceId, loadConfig } from '../../src/config/config.js'

describe('defaultInstanceId', () => {
  it('is the host name and 8 random hex digits, new at every call (the contract: "random")', () => {
    expect(defaultInstanceId('web-1.example.com')).toMatch(/^web-1\.example\.com-[0-9a-f]{8}$/)
    expect(defaultInstanceId('web-1')).not.toBe(defaultInstanceId('web-1'))
  })

  it('keeps only characters INSTANCE_ID allows and fits its length', () => {
    const id = defaultInstanceId(`h ö/${'x'.repeat(80)}`)
    expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/)
    expect(id.startsWith('h---')).toBe(true)
    expect(defaultInstanceId('')).toMatch(/^host-[0-9a-f]{8}$/)
  })

  it('is what loadConfig uses unless INSTANCE_ID is set, whatever the port', () => {
    const first = loadConfig({ PORT: '4321' }).instanceId
    const second = loadConfig({ PORT: '4321' }).instanceId
    expect(first).toMatch(/^[A-Za-z0-9._-]{1,55}-[0-9a-f]{8}$/)
    expect(first).not.toContain('4321')
    expect(first).not.toBe(second) // random per start: a restart gets a new one
    expect(loadConfig({ PORT: '4321', INSTANCE_ID: 'mine' }).instanceId).toBe('mine')
  })
})

describe('parseTtl', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['12h', 43_200],
    ['7d', 604_800],
  ])('%s is %i s', (raw, seconds) => {
    expect(parseTtl(raw)).toBe(seconds)
  })

  // Exact, like numeric env settings (setting-kinds.ts): ' 90' is a quoting slip, not 90 s.
  it.each(['', '0', '1w', '-5m', '1.5h', '366d', ' 90', '90 ', '15m\n', '1e3', '0x10', '+90'])(
    'refuses %j',
    (raw) => {
      expect(parseTtl(raw)).toBeUndefined()
    },
  )
})

describe('configFor', () => {
  it('gives two servers different instance ids, whatever their ports', () => {
    expect(configFor({ port: 0 }).instanceId).not.toBe(configFor({ port: 0 }).instanceId)
    expect(configFor({ port: 1234 }).instanceId).not.toBe(configFor({ port: 1234 }).instanceId)
    expect(configFor({ port: 0, instanceId: 'x' }).instanceId).toBe('x')
  })
})
