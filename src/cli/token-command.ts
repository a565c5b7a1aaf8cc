/**
 * `yjs-cluster-server token`: mints an HS256 JWT that this server accepts when AUTH_SECRET is
 * set, so operators and scripts can hand out access without writing code. The claims are
 * the ones the authorizer reads (src/transport/authorizer.ts): `docs`, `mode`, `sub`,
 * `iat`, `exp`. The token goes to stdout alone (pipe-friendly); nothing else is printed.
 */
import { parseArgs } from 'node:util'
import { SignJWT } from 'jose'
import { docNameProblem } from '../doc-name.js'
import type { CliCommand, CliContext } from './command.js'
import { ExitCode } from './exit-codes.js'
import { answerHelpOrUsage, formatUsage, usageError } from './usage.js'

export const TOKEN_USAGE = formatUsage({
  synopsis: 'token --docs PATTERNS [options]',
  about: "Prints an HS256 JWT for this server's AUTH_SECRET on stdout.",
  options: [
    ['--docs PATTERNS', 'comma-separated doc names or prefixes ending in * ("*" = every doc)'],
    ['--sub SUBJECT', 'the user it is for (JWT "sub"; revocations and webhooks name it)'],
    ['--mode MODE', 'write (default) or read'],
    ['--ttl DURATION', 'how long it is valid: 90s, 15m, 12h, 7d, or plain seconds (default 1h)'],
    ['--secret SECRET', 'signing key (default: the AUTH_SECRET environment variable)'],
  ],
  exitCodes: '0 printed, 2 usage error (nothing printed on stdout)',
})

/** What a token carries, validated. */
export interface TokenRequest {
  readonly docs: readonly string[]
  readonly sub: string | undefined
  readonly mode: 'write' | 'read'
  readonly ttlSeconds: number
  readonly secret: string
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 }
/** A year: longer-lived tokens cannot be expired by the server, only revoked. */
const MAX_TTL_SECONDS = 365 * 86_400

/** `90`, `90s`, `15m`, `12h`, `7d` → seconds; undefined when it is none of those. */
export function parseTtl(raw: string): number | undefined {
  // Exact, like numeric env settings (config/setting-kinds.ts): no trim, " 90" is refused.
  const match = /^(\d+)([smhd]?)$/.exec(raw)
  if (!match) return undefined
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's']!
  return seconds >= 1 && seconds <= MAX_TTL_SECONDS ? seconds : undefined
}

/** argv + environment → a TokenRequest, or the usage problem as a string (or 'help'). */
export function parseTokenArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): TokenRequest | string | 'help' {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        docs: { type: 'string' },
        sub: { type: 'string' },
        mode: { type: 'string' },
        ttl: { type: 'string' },
        secret: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    return (error as Error).message
  }
  if (values.help) return 'help'
  const docsRaw = values.docs as string | undefined
  if (docsRaw === undefined) return '--docs is required (e.g. --docs "team-a/*")'
  const docs = docsRaw.split(',').map((pattern) => pattern.trim())
  for (const pattern of docs) {
    if (pattern === '*') continue
    const problem = docNameProblem(pattern.endsWith('*') ? pattern.slice(0, -1) || 'x' : pattern)
    if (problem) return `--docs: "${pattern}": ${problem}`
  }
  const mode = (values.mode as string | undefined) ?? 'write'
  if (mode !== 'write' && mode !== 'read') return `--mode must be write or read, got "${mode}"`
  const ttlRaw = (values.ttl as string | undefined) ?? '1h'
  const ttlSeconds = parseTtl(ttlRaw)
  if (ttlSeconds === undefined)
    return `--ttl must be like 90s, 15m, 12h or 7d (at most 365d), got "${ttlRaw}"`
  const sub = values.sub as string | undefined
  if (sub !== undefined && sub.trim() === '') return '--sub is empty'
  const secret = (values.secret as string | undefined) ?? env.AUTH_SECRET?.trim()
  if (!secret) return 'no signing key: set AUTH_SECRET in the environment or give --secret'
  // The server refuses to start with a shorter AUTH_SECRET: a token signed with one would
  // match no server.
  if (Buffer.byteLength(secret) < 32) return 'the secret must be at least 32 bytes, as AUTH_SECRET must'
  return { docs, sub, mode, ttlSeconds, secret }
}

/** Signs the token. `now` in Unix seconds. */
export async function mintToken(request: TokenRequest, now = Math.floor(Date.now() / 1000)): Promise<string> {
  const claims: Record<string, unknown> = { docs: request.docs }
  // `write` is the default the server assumes; only a read grant needs the claim.
  if (request.mode === 'read') claims.mode = 'read'
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + request.ttlSeconds)
  if (request.sub !== undefined) jwt = jwt.setSubject(request.sub)
  return jwt.sign(new TextEncoder().encode(request.secret))
}

export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'mint a JWT for AUTH_SECRET (--docs, --sub, --mode, --ttl)',
  async run(argv: readonly string[], context: CliContext): Promise<number> {
    const parsed = parseTokenArgs(argv, context.env)
    if (parsed === 'help') return answerHelpOrUsage({ kind: 'help' }, TOKEN_USAGE, context)!
    if (typeof parsed === 'string') return usageError(parsed, TOKEN_USAGE, context)
    context.stdout.write(`${await mintToken(parsed)}\n`)
    return ExitCode.ok
  },
}
