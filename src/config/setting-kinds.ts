/**
 * The kinds of setting the server has (integer in a range, port, URL, list of origins, ...),
 * each able to read a value from two sources with the same rules: an environment string
 * (`parse`, for the CLI's `serve`) and a value handed to `createServer` (`check`, which
 * must also cope with JavaScript callers passing the wrong type). A problem is thrown as a
 * SettingProblem whose message follows the setting's name ("must be between 0 and 65535,
 * got 70000"): the caller prefixes the variable or option name, so every message names it.
 */

/** What is wrong with one value; the message reads after the setting's name. */
export class SettingProblem extends Error {
  override name = 'SettingProblem'
}

/** One setting: its environment variable, its default, and how to read and check a value. */
export interface Setting<T> {
  /** The environment variable the CLI's `serve` reads it from. */
  readonly env: string
  /** The value when neither the environment nor the options give one. */
  readonly fallback: () => T
  /**
   * Reads a non-empty environment value: trimmed, unless `exact`. Throws SettingProblem.
   */
  readonly parse: (raw: string) => T
  /**
   * The environment value is parsed exactly as given: surrounding whitespace is refused, not
   * trimmed (numbers: `PORT=' 80'` is a typo or a templating slip, not port 80).
   */
  readonly exact?: boolean
  /** Checks a value given as an option (any type at run time). Throws SettingProblem. */
  readonly check: (value: unknown) => T
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** A non-empty string with a default (`HOST`, `DATA_DIR`). */
export function text(env: string, fallback: string): Setting<string> {
  return {
    env,
    fallback: () => fallback,
    parse: (raw) => raw,
    check: (value) => {
      if (typeof value !== 'string' || value.trim() === '') {
        throw new SettingProblem(`must be a non-empty string, got ${describe(value)}`)
      }
      return value
    },
  }
}

/**
 * A whole number in [min, max]. The environment spells it in decimal digits only: no sign,
 * no spaces around it, no `1e3`, `0x10`, `1_000` or `10.0`.
 */
export function integer(env: string, fallback: number, min: number, max: number): Setting<number> {
  const inRange = (value: number, shown: string) => {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new SettingProblem(`must be between ${min} and ${max}, got ${shown}`)
    }
    return value
  }
  return {
    env,
    fallback: () => fallback,
    exact: true,
    parse: (raw) => {
      if (!/^\d+$/.test(raw)) {
        throw new SettingProblem(`must be a whole number in decimal digits only, got "${raw}"`)
      }
      return inRange(Number(raw), raw)
    },
    check: (value) => {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new SettingProblem(`must be a whole number, got ${describe(value)}`)
      }
      return inRange(value, String(value))
    },
  }
}

/** A TCP port; 0 picks a free one. */
export function port(env: string, fallback: number): Setting<number> {
  return integer(env, fallback, 0, 65535)
}

/** The same kind, but unset by default (and `undefined` is a valid option value). */
export function optional<T>(setting: Setting<T>): Setting<T | undefined> {
  return {
    env: setting.env,
    fallback: () => undefined,
    parse: setting.parse,
    ...(setting.exact ? { exact: true } : {}),
    check: (value) => (value === undefined ? undefined : setting.check(value)),
  }
}

/** A string matching `pattern` (identifiers such as INSTANCE_ID and REDIS_PREFIX). */
export function pattern(
  env: string,
  fallback: () => string,
  rule: RegExp,
  ruleText: string,
): Setting<string> {
  const checked = (value: string) => {
    if (!rule.test(value)) throw new SettingProblem(`must be ${ruleText}`)
    return value
  }
  return {
    env,
    fallback,
    parse: checked,
    check: (value) => {
      if (typeof value !== 'string') throw new SettingProblem(`must be ${ruleText}, got ${describe(value)}`)
      return checked(value)
    },
  }
}

/** One of a fixed list of words (case-insensitive in the environment). */
export function oneOf<T extends string>(env: string, fallback: T, words: readonly T[]): Setting<T> {
  const checked = (value: unknown) => {
    if (typeof value !== 'string' || !words.includes(value as T)) {
      throw new SettingProblem(`must be one of ${words.join(', ')}, got ${describe(value)}`)
    }
    return value as T
  }
  return { env, fallback: () => fallback, parse: (raw) => checked(raw.toLowerCase()), check: checked }
}

/**
 * An optional string setting: unset by default; from the environment or an option value,
 * a string goes through `checked` (which throws a SettingProblem or returns it); an option
 * value of another type is refused with `typeProblem(value)`.
 */
function optionalString(
  env: string,
  checked: (value: string) => string,
  typeProblem: (value: unknown) => string,
): Setting<string | undefined> {
  return {
    env,
    fallback: () => undefined,
    parse: checked,
    check: (value) => {
      if (value === undefined) return undefined
      if (typeof value !== 'string') throw new SettingProblem(typeProblem(value))
      return checked(value)
    },
  }
}

/** `raw` as a URL, or a SettingProblem that names it with any password hidden. */
function parseUrl(raw: string): URL {
  try {
    return new URL(raw)
  } catch {
    throw new SettingProblem(`is not a valid URL: "${redactUrl(raw)}"`)
  }
}

/** An optional secret of at least `minimum` (bytes or characters). */
export function secret(
  env: string,
  minimum: number,
  unit: 'bytes' | 'characters',
  why = '',
): Setting<string | undefined> {
  const checked = (value: string) => {
    const size = unit === 'bytes' ? Buffer.byteLength(value) : value.length
    if (size < minimum) throw new SettingProblem(`must be at least ${minimum} ${unit}${why}`)
    return value
  }
  return optionalString(env, checked, (value) => `must be a string, got ${typeof value}`)
}

/** Hides a password in a URL so config errors never print secrets. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^@/]*)@/, '//***@')
}

/** An optional `redis://` or `rediss://` URL. */
export function redisUrl(env: string): Setting<string | undefined> {
  const checked = (raw: string) => {
    const url = parseUrl(raw)
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new SettingProblem(`must start with redis:// or rediss://, got "${url.protocol}//"`)
    }
    if (url.hostname === '') throw new SettingProblem('has no host')
    return raw
  }
  return optionalString(env, checked, (value) => `must be a URL string, got ${describe(value)}`)
}

/** An optional `https://` (or `http://`) URL. */
export function httpUrl(env: string): Setting<string | undefined> {
  const checked = (raw: string) => {
    const url = parseUrl(raw)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new SettingProblem(`must start with https:// (or http://), got "${url.protocol}//"`)
    }
    return raw
  }
  return optionalString(env, checked, (value) => `must be a URL string, got ${describe(value)}`)
}

/** An optional list of `https://` (or `http://`) URLs (environment: comma-separated). */
export function httpUrlList(env: string): Setting<readonly string[] | undefined> {
  const list = textList(env)
  const one = httpUrl(env)
  // httpUrl only answers undefined for undefined; every entry here is a string.
  const each = (entries: readonly string[] | undefined) => entries?.map((entry) => one.parse(entry) as string)
  return {
    env,
    fallback: () => undefined,
    parse: (raw) => each(list.parse(raw)),
    check: (value) => each(list.check(value)),
  }
}

/**
 * An optional Standard Webhooks signing secret: `whsec_` + base64 of 24-64 random bytes
 * (the format the spec's libraries mint and expect).
 */
export function webhookSecret(env: string): Setting<string | undefined> {
  const checked = (value: string) => {
    const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value)
    const bytes = match ? Buffer.from(match[1]!, 'base64').byteLength : 0
    if (bytes < 24 || bytes > 64)
      throw new SettingProblem('must be whsec_ followed by base64 of 24-64 random bytes')
    return value
  }
  return optionalString(env, checked, (value) => `must be a string, got ${typeof value}`)
}

/** An optional list of non-empty strings (environment: comma-separated). */
export function textList(env: string): Setting<readonly string[] | undefined> {
  return {
    env,
    fallback: () => undefined,
    parse: (raw) => {
      const entries = raw.split(',').map((entry) => entry.trim())
      if (entries.some((entry) => entry === '')) throw new SettingProblem(`has an empty entry: "${raw}"`)
      return entries
    },
    check: (value) => {
      if (value === undefined) return undefined
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.trim() !== '')) {
        throw new SettingProblem(`must be an array of non-empty strings, got ${describe(value)}`)
      }
      return value as string[]
    },
  }
}

export interface HostPort {
  readonly host: string
  readonly port: number
}

/** Optional `host:port` seeds (environment: comma-separated; option: `{ host, port }[]`). */
export function hostPortList(env: string): Setting<readonly HostPort[] | undefined> {
  const entry = (text: string): HostPort => {
    const match = /^\s*([^\s:]+|\[[^\]]+\]):(\d{1,5})\s*$/.exec(text)
    const portNumber = match ? Number(match[2]) : Number.NaN
    if (!match || portNumber < 1 || portNumber > 65535) {
      throw new SettingProblem(`entries must be host:port, got "${text.trim()}"`)
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port: portNumber }
  }
  return {
    env,
    fallback: () => undefined,
    parse: (raw) => raw.split(',').map(entry),
    check: (value) => {
      if (value === undefined) return undefined
      if (!Array.isArray(value) || value.length === 0) {
        throw new SettingProblem(`must be a non-empty array of { host, port }, got ${describe(value)}`)
      }
      return value.map((item: unknown) => {
        if (typeof item === 'string') return entry(item)
        const { host, port: portNumber } = (item ?? {}) as { host?: unknown; port?: unknown }
        if (
          typeof host !== 'string' ||
          host === '' ||
          typeof portNumber !== 'number' ||
          !Number.isInteger(portNumber) ||
          portNumber < 1 ||
          portNumber > 65535
        ) {
          throw new SettingProblem(
            `entries must be { host, port } with a port 1-65535, got ${describe(item)}`,
          )
        }
        return { host, port: portNumber }
      })
    },
  }
}

/** Optional browser origins (`scheme://host[:port]`, lowercased; environment: comma-separated). */
export function originList(env: string): Setting<readonly string[] | undefined> {
  const entry = (text: string): string => {
    const origin = text.trim().toLowerCase()
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined // reported below with the entry itself
    }
    if (!parsed || parsed.origin !== origin) {
      throw new SettingProblem(`entries must be origins like https://app.example.com, got "${text.trim()}"`)
    }
    return origin
  }
  return {
    env,
    fallback: () => undefined,
    parse: (raw) => raw.split(',').map(entry),
    check: (value) => {
      if (value === undefined) return undefined
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
        throw new SettingProblem(`must be an array of origin strings, got ${describe(value)}`)
      }
      return value.map(entry)
    },
  }
}
