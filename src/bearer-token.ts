/**
 * The credentials of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), for user
 * tokens on the upgrade and for ADMIN_TOKEN alike. The scheme is case-insensitive
 * (RFC 7235 §2.1: `bearer`, `BEARER` are the same scheme); the token is taken as sent.
 */
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The token of a Bearer `Authorization` header, or undefined for any other header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined
  return BEARER.exec(authorization)?.[1]
}
