/**
 * Reads back the integers we store as text: deletion generations (Redis `<doc>:gen`, LevelDB
 * `g\0<doc>`) in decimal, boot ids and log sequence numbers (LevelDB keys) in lower-case hex.
 * Pure; imports nothing.
 *
 * Why strict: `parseInt('12abc')` is 12 and `Number('')` is 0, so a damaged value used to
 * pass as a plausible one (a deletion generation read as 0 means "never deleted"). What we
 * wrote is always plain digits; anything else is reported to the caller as malformed
 * (undefined), and the caller decides what that means for its data, with a log line.
 */

const DECIMAL = /^\d+$/
const HEX = /^[0-9a-f]+$/

/** A non-negative safe integer written in decimal digits only; undefined for anything else. */
export function parseStoredDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}

/** A non-negative safe integer written in lower-case hex digits only; undefined for anything else. */
export function parseStoredHex(text: string): number | undefined {
  if (!HEX.test(text)) return undefined
  const value = Number.parseInt(text, 16)
  return Number.isSafeInteger(value) ? value : undefined
}
