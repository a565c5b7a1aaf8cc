/**
 * The names `createServer` accepts, checked before any value: a misspelt option
 * (`{ dataDri: '/x' }`) would otherwise be ignored silently and the server would run on its
 * defaults (port 1234, ./data). The setting names come from the settings table
 * (config/config.ts SETTINGS); the library's own options and the hook names are typed tables
 * here, so the compiler keeps them in step with ServerOptions and Hooks. Every problem is a
 * ConfigError whose message starts with the option's name, like a bad value's.
 */
import { type Config, ConfigError, SETTINGS } from './config/config.js'
import type { Hooks } from './hooks.js'

type LibraryOnly<Options> = Exclude<keyof Options, keyof Config>

/** What each library-only option must be (its value is checked by createServer or the app). */
type Kind = 'hooks' | 'hook sets' | 'function' | 'object' | 'number'

/** Every hook name, for `hooks` and each of `extensions`. */
const HOOK_NAMES: { readonly [K in keyof Hooks]-?: true } = {
  onAuthenticate: true,
  onLoadDocument: true,
  onChange: true,
  onStoreDocument: true,
  onConnect: true,
  onDisconnect: true,
  onDeleteDocument: true,
}

/**
 * Throws a ConfigError naming the first option `createServer` does not know (with the closest
 * known name when there is one) or the first hook that is not a function.
 */
export function checkOptionNames<Options extends object>(
  options: Options,
  libraryOptions: { readonly [K in LibraryOnly<Options>]-?: Kind },
): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`options must be an object, got ${describe(options)}`)
  }
  const kinds = libraryOptions as Readonly<Record<string, Kind>>
  const known = [...Object.keys(SETTINGS), ...Object.keys(kinds)]
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(SETTINGS, name) && !Object.hasOwn(kinds, name)) {
      throw new ConfigError(`${name} is not an option of createServer${suggestion(name, known)}`)
    }
    const kind = kinds[name]
    if (value === undefined || kind === undefined) continue
    if (kind === 'hooks') checkHooks(name, value)
    else if (kind === 'hook sets') {
      if (!Array.isArray(value))
        throw new ConfigError(`${name} must be an array of hook sets, got ${describe(value)}`)
      for (const [index, hooks] of value.entries()) checkHooks(`${name}[${index}]`, hooks)
    } else if (kind === 'function' && typeof value !== 'function') {
      throw new ConfigError(`${name} must be a function, got ${describe(value)}`)
    } else if (kind === 'object' && (typeof value !== 'object' || value === null)) {
      throw new ConfigError(`${name} must be an object, got ${describe(value)}`)
    }
  }
}

function checkHooks(name: string, hooks: unknown): void {
  if (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks)) {
    throw new ConfigError(`${name} must be an object of hook functions, got ${describe(hooks)}`)
  }
  const hookNames = Object.keys(HOOK_NAMES)
  for (const [hook, value] of Object.entries(hooks)) {
    if (!Object.hasOwn(HOOK_NAMES, hook)) {
      throw new ConfigError(`${name}.${hook} is not a hook${suggestion(hook, hookNames)}`)
    }
    if (value !== undefined && typeof value !== 'function') {
      throw new ConfigError(`${name}.${hook} must be a function, got ${describe(value)}`)
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) return 'an array'
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value)
}

/** " (did you mean dataDir?)" for a name at most 2 edits (or a case change) from a known one. */
function suggestion(name: string, known: readonly string[]): string {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`
}

/** Levenshtein distance with adjacent swaps counted as one edit (`dataDri` → `dataDir`: 1). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i] as number[]
      const above = rows[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row[j] = best
    }
  }
  return (rows[a.length] as number[])[b.length] as number
}
