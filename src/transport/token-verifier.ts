/**
 * Checks a JWT's signature and standard claims, and nothing else: which key, which algorithms,
 * `exp`, and (for identity-provider tokens) `iss` / `aud`. What the claims grant is the
 * authorizer's business. Two kinds of key:
 *   - a shared secret (AUTH_SECRET): HS256 only;
 *   - an identity provider's JWK set (AUTH_JWKS_URL): RS256, ES256, EdDSA, the key picked by
 *     the token's `kid`, through jose's remote JWK set (cached; refetched at most once per
 *     cooldown when a token names a `kid` the cached set lacks, which is how key rotation
 *     reaches us without letting junk tokens hammer the provider).
 * With both, the token's header `alg` picks the verifier, so a secret-signed token is never
 * checked against a public key or the reverse (key confusion).
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose'

/** Why a token was refused (the authorizer maps each to 401). */
export type TokenFailure = 'invalid-token' | 'expired-token' | 'token-without-exp' | 'jwks-unavailable'

export type VerifyResult =
  | { readonly ok: true; readonly payload: JWTPayload }
  | { readonly ok: false; readonly reason: TokenFailure; readonly error?: unknown }

export interface TokenVerifier {
  /** Never throws: every failure is a `reason`. */
  verify(token: string): Promise<VerifyResult>
}

/** The asymmetric algorithms identity providers sign with that we accept. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const

export interface JwksOptions {
  readonly url: string
  /** Required `iss` when set. */
  readonly issuer?: string | undefined
  /** Accepted `aud` values (any one matches) when set. */
  readonly audience?: readonly string[] | undefined
  /** After a fetch, no refetch for an unknown `kid` for this long (ms). */
  readonly cooldownMs: number
  /** The cached set is refetched when older than this (ms), so removed keys stop working. */
  readonly cacheMaxAgeMs: number
  /** A JWKS fetch slower than this fails (ms). */
  readonly timeoutMs?: number
  /** Told once per failed fetch (at most once per cooldown), for the operator's log. */
  readonly onUnavailable?: (error: unknown) => void
}

/** HS256 with a shared secret: what AUTH_SECRET tokens (and the `token` command) use. */
export function secretVerifier(secret: string): TokenVerifier {
  const key = new TextEncoder().encode(secret)
  // Pinning the algorithm rejects `none` and every asymmetric/confused-key variant.
  return { verify: (token) => verifyWith(token, (t, opts) => jwtVerify(t, key, opts), ['HS256']) }
}

/**
 * Tokens of an identity provider, checked against its published JWK set. When the provider
 * cannot be reached, the last set it served keeps verifying (an outage of the IdP's JWKS
 * endpoint must not log everybody out), and a failed fetch is not retried for `cooldownMs`
 * (jose retries a failed fetch on every token otherwise: a reconnect storm would become a
 * request storm on the provider).
 */
export function jwksVerifier(options: JwksOptions): TokenVerifier {
  const remote = createRemoteJWKSet(new URL(options.url), {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    timeoutDuration: options.timeoutMs ?? 5000,
  })
  const claims = {
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: [...options.audience] } : {}),
  }
  const algorithms = [...JWKS_ALGORITHMS]
  let failedAt = Number.NEGATIVE_INFINITY
  const withStaleKeys = (token: string, failure: VerifyResult): Promise<VerifyResult> => {
    const last = remote.jwks()
    if (!last) return Promise.resolve(failure)
    const local = createLocalJWKSet(last)
    return verifyWith(token, (t, opts) => jwtVerify(t, local, { ...opts, ...claims }), algorithms).then(
      // A kid the old set lacks may be a rotation we cannot see yet: not the token's fault.
      (stale) => (!stale.ok && stale.error instanceof joseErrors.JWKSNoMatchingKey ? failure : stale),
    )
  }
  return {
    verify: async (token) => {
      if (Date.now() - failedAt < options.cooldownMs) {
        return withStaleKeys(token, { ok: false, reason: 'jwks-unavailable' })
      }
      const result = await verifyWith(
        token,
        (t, opts) => jwtVerify(t, remote, { ...opts, ...claims }),
        algorithms,
      )
      if (result.ok || result.reason !== 'jwks-unavailable') return result
      failedAt = Date.now()
      options.onUnavailable?.(result.error)
      return withStaleKeys(token, result)
    },
  }
}

/**
 * Both kinds accepted: HS256 tokens go to the secret, everything else to the JWK set. The
 * header is only read to route; each verifier pins its own algorithms again.
 */
export function routingVerifier(secret: TokenVerifier, jwks: TokenVerifier): TokenVerifier {
  return {
    verify: async (token) => {
      let alg: unknown
      try {
        alg = decodeProtectedHeader(token).alg
      } catch (error) {
        return { ok: false, reason: 'invalid-token', error }
      }
      return alg === 'HS256' ? secret.verify(token) : jwks.verify(token)
    },
  }
}

type JwtVerifyOptions = { algorithms: string[]; clockTolerance: number; requiredClaims: string[] }

async function verifyWith(
  token: string,
  verify: (token: string, options: JwtVerifyOptions) => Promise<{ payload: JWTPayload }>,
  algorithms: string[],
): Promise<VerifyResult> {
  try {
    // Requiring `exp` means no token is valid forever (and an open connection can be closed
    // with 4001 when it passes).
    const { payload } = await verify(token, { algorithms, clockTolerance: 0, requiredClaims: ['exp'] })
    if (typeof payload.exp !== 'number') return { ok: false, reason: 'token-without-exp' }
    return { ok: true, payload }
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired-token' }
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp') {
      return { ok: false, reason: 'token-without-exp' }
    }
    // The provider could not be asked (down, slow, not a JWK set): not the token's fault, and
    // an operator must hear of it, so it gets its own reason.
    if (isJwksFailure(error)) return { ok: false, reason: 'jwks-unavailable', error }
    return { ok: false, reason: 'invalid-token', error }
  }
}

/**
 * jose reports a fetch that failed outright (refused connection) as the plain fetch
 * TypeError, a non-200 or non-JSON answer as a generic JOSEError naming the JWK set, and a
 * slow one as JWKSTimeout. Token problems are always specific JOSE errors.
 */
function isJwksFailure(error: unknown): boolean {
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return true
  if (!(error instanceof joseErrors.JOSEError)) return error instanceof TypeError
  return error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test(error.message)
}
