/**
 * Which tokens this instance accepts, from its config: HS256 with AUTH_SECRET, an identity
 * provider's tokens with AUTH_JWKS_URL, either with both, or none (auth off).
 */
import type { Config } from '../config/config.js'
import { jwksVerifier, routingVerifier, secretVerifier, type TokenVerifier } from './token-verifier.js'

/** `undefined` when neither AUTH_SECRET nor AUTH_JWKS_URL is set (no auth). */
export function verifierFromConfig(
  config: Config,
  onJwksUnavailable?: (error: unknown) => void,
): TokenVerifier | undefined {
  const secret = config.authSecret !== undefined ? secretVerifier(config.authSecret) : undefined
  const jwks =
    config.authJwksUrl !== undefined
      ? jwksVerifier({
          url: config.authJwksUrl,
          issuer: config.authIssuer,
          audience: config.authAudience,
          cooldownMs: config.authJwksCooldownMs,
          cacheMaxAgeMs: config.authJwksCacheMs,
          ...(onJwksUnavailable ? { onUnavailable: onJwksUnavailable } : {}),
        })
      : undefined
  if (secret && jwks) return routingVerifier(secret, jwks)
  return secret ?? jwks
}
