import { describe, expect, it } from 'vitest'
import { parseTtl } from '../../src/cli/token-command.js'
import { configFor, defaultInstanceId, loadConfig } from '../../src/config/config.js'

describe('defaultInstanceId', () => {
  it('is host name and port, stable across calls', () => {
    expect(defaultInstanceId('web-1.example.com', 1234)).toBe('web-1.example.com-1234')
    expect(defaultInstanceId('web-1', 1234)).toBe(defaultInstanceId('web-1', 1234))
  })

  it('differs for two PORT=0 instances on one host (the relay skips its own id)', () => {
    expect(defaultInstanceId('web-1', 0)).not.toBe(defaultInstanceId('web-1', 0))
  })

  it('keeps only characters INSTANCE_ID allows and fits its length', () => {
    const id = defaultInstanceId(`h ö/${'x'.repeat(80)}`, 65535)
    expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/)
    expect(id.startsWith('h---')).toBe(true)
  })

  it('is what loadConfig uses unless INSTANCE_ID is set', () => {
    expect(loadConfig({ PORT: '4321' }).instanceId).toMatch(/-4321$/)
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
  it('gives two port-0 servers different instance ids', () => {
    expect(configFor({ port: 0 }).instanceId).not.toBe(configFor({ port: 0 }).instanceId)
    expect(configFor({ port: 0, instanceId: 'x' }).instanceId).toBe('x')
  })
})
