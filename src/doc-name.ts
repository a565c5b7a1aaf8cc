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

/**
 * The doc name in a request path: URL-decoded, without the leading `/` and the query.
 * Returns undefined when the path is not valid percent-encoding.
 */
export function docNameFromPath(url: string): string | undefined {
  const path = url.split('?', 1)[0] ?? ''
  if (!path.startsWith('/')) return undefined
  try {
    return decodeURIComponent(path.slice(1))
  } catch {
    return undefined // malformed percent-encoding; the caller answers 400
  }
}
