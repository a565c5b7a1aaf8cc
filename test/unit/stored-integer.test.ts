import { describe, expect, it } from 'vitest'
import { parseStoredDecimal, parseStoredHex } from '../../src/protocol/stored-integer.js'

describe('stored integers (counters and ids read back from Redis and LevelDB)', () => {
  it('reads what we write: decimal and lower-case hex digits only', () => {
    expect(parseStoredDecimal('0')).toBe(0)
    expect(parseStoredDecimal('7')).toBe(7)
    expect(parseStoredDecimal('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseStoredHex('00000000abcd')).toBe(0xabcd)
    expect(parseStoredHex('0')).toBe(0)
  })

  it('refuses anything else instead of reading a prefix or an empty string as a number', () => {
    // parseInt would read 12, 12, 1, 0, 0 from these; Number would read ' 7' as 7 and '' as 0.
    for (const bad of [
      '12abc',
      '12.5',
      '1e3',
      '0x10',
      '-1',
      '+1',
      ' 7',
      '7 ',
      '',
      '1_000',
      '9007199254740992',
    ]) {
      expect(parseStoredDecimal(bad), bad).toBeUndefined()
    }
    for (const bad of ['xyz', 'ABCD', ' a', '', '-1', '0x1f', '20000000000000']) {
      expect(parseStoredHex(bad), bad).toBeUndefined()
    }
  })
})
