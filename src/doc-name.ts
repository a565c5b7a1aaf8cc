/**
 * What a document name may be: 1-512 UTF-8 bytes, no control characters. The rule keeps
 * names safe to embed in storage keys (which use U+0000 as a separator) and in Redis keys
 * (whose hash tag braces are escaped separately), and in logs.
 */
export const MAX_DOC_NAME_BYTES = 512

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Returns why `name` is not a valid document name, or undefined when it is. */
export function docNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'document name is empty'
  if (Buffer.byteLength(name, 'utf8') > MAX_DOC_NAME_BYTES) {
    return `document name is longer than ${MAX_DOC_NAME_BYTES} bytes`
  }
  if (CONTROL_CHARACTERS.test(name)) return 'document name contains control characters'
  if (LONE_SURROGATE.test(name)) return 'document name is not well-formed Unicode'
  return undefined
}

export function assertDocName(name: string): void {
  const problem = docNameProblem(name)
  if (problem) throw new TypeError(problem)
}

/** Why a path segment is refused when its escapes decode to no name: one message everywhere. */
export const NOT_PERCENT_ENCODING =
  'document name is not valid percent-encoding (its %XX escapes are not UTF-8)'

/**
 * The one doc-name decoder, for the WebSocket path and the admin API's `<doc>` segment alike.
 * Stock y-websocket does not encode the room name, so "50% plan" arrives as `/50%%20plan`:
 * a `%` that does not start an escape is taken literally (the name is what the user typed;
 * this is also how the WHATWG URL standard percent-decodes). Returns undefined when
 * well-formed escapes do not decode to UTF-8 (e.g. `%C3%28`): there is no name to take
 * literally then, and the caller answers 400 with NOT_PERCENT_ENCODING.
 */
export function decodeDocName(encoded: string): string | undefined {
  let failed = false
  const name = encoded.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const decoded = decodeEscapes(run)
    if (decoded === undefined) failed = true
    return decoded ?? run
  })
  return failed ? undefined : name
}

/** Why a query string is refused when its escapes are not UTF-8 (the same rule as a name's). */
export const NOT_PERCENT_ENCODING_QUERY =
  'query is not valid percent-encoding (its %XX escapes are not UTF-8)'

/**
 * Whether every run of `%XX` escapes in `encoded` (a path segment or a whole query string)
 * decodes as UTF-8. URLSearchParams turns such bytes into U+FFFD instead, so an admin
 * `?prefix=%C3%28` would have listed or exported the docs under a prefix nobody asked for;
 * `&`, `=` and `+` are never part of an escape run, so checking the raw query checks every
 * name and value in it.
 */
export function escapesAreUtf8(encoded: string): boolean {
  return decodeDocName(encoded) !== undefined
}

/**
 * The doc name in a request path: decoded by decodeDocName, without the leading `/` and the
 * query. Undefined when the path does not start with `/` or does not decode.
 */
export function docNameFromPath(url: string): string | undefined {
  const path = url.split('?', 1)[0] ?? ''
  if (!path.startsWith('/')) return undefined
  return decodeDocName(path.slice(1))
}

/** Decodes a run of `%XX` escapes, or undefined when its bytes are not UTF-8. */
function decodeEscapes(run: string): string | undefined {
  try {
    return decodeURIComponent(run)
  } catch {
    return undefined // not UTF-8: the caller refuses the name
  }
}
