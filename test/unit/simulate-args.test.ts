import { describe, expect, it } from 'vitest'
import { parseSimulateArgs } from '../../src/cli/simulate-args.js'

describe('simulate numeric flags (bugs brief 5: no lax Number())', () => {
  it.each([' 5', '5 ', '1e1', '0x5', '.5', '5.', '+5', '5_0', ''])('refuses --rate %j', (raw) => {
    expect(parseSimulateArgs(['--url', 'ws://127.0.0.1:1', '--rate', raw])).toEqual({
      kind: 'usage-error',
      message: `--rate must be a number (got "${raw}")`,
    })
  })

  it.each(['-1', '-0.5'])('refuses --docs %s in its own words, not parseArgs’ "ambiguous" message', (raw) => {
    for (const argv of [['--docs', raw], [`--docs=${raw}`]]) {
      expect(parseSimulateArgs(['--url', 'ws://127.0.0.1:1', ...argv])).toEqual({
        kind: 'usage-error',
        message: `--docs must be 0 or more (got "${raw}")`,
      })
    }
  })

  it('takes plain decimals', () => {
    const parsed = parseSimulateArgs([
      '--url',
      'ws://127.0.0.1:1',
      '--rate',
      '0.5',
      '--docs',
      '3',
      '--duration',
      '2',
    ])
    expect(parsed).toMatchObject({ kind: 'run', options: { rate: 0.5, docs: 3, durationMs: 2000 } })
  })
})
