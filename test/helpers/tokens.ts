/** Signs test JWTs the way an application's auth service would (HS256 unless told). */
import { SignJWT } from 'jose'

export const TEST_SECRET = 'test-secret-of-at-least-thirty-two-bytes!!'
export const TEST_ADMIN_TOKEN = 'admin-token-for-tests-0123456789'

export interface TokenOptions {
  docs?: unknown
  mode?: unknown
  sub?: string
  /** Seconds from now; `null` = no exp claim. Default one hour. */
  expiresIn?: number | null
  /** Unix seconds; `null` = no iat claim. Default now. */
  issuedAt?: number | null
  secret?: string
  alg?: 'HS256' | 'HS512'
}

export async function signToken(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {}
  if (options.docs !== undefined) claims.docs = options.docs
  else claims.docs = ['*']
  if (options.mode !== undefined) claims.mode = options.mode
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256' })
  if (options.sub !== undefined) jwt = jwt.setSubject(options.sub)
  if (options.issuedAt !== null) jwt = jwt.setIssuedAt(options.issuedAt ?? now)
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(now + (options.expiresIn ?? 3600))
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET))
}

/** An unsigned `alg: none` token (jose refuses to make one, which is the point). */
export function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
}
