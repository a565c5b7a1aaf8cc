/**
 * A local identity provider for tests: key pairs (jose), a JWKS endpoint on a free port that
 * counts its fetches and can rotate, drop or refuse keys, and a signer for its tokens.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { onTestFinished } from 'vitest'

export type ProviderAlg = 'RS256' | 'ES256' | 'EdDSA'

export interface ProviderKey {
  readonly kid: string
  readonly alg: ProviderAlg
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
}

export async function providerKey(kid: string, alg: ProviderAlg = 'RS256'): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicJwk }
}

export interface JwksServer {
  readonly url: string
  /** GET requests served so far. */
  readonly fetches: number
  /** The keys served from now on. */
  serve(keys: readonly ProviderKey[]): void
  /** Answer 503 from now on (true) or serve again (false). */
  fail(failing: boolean): void
}

export async function startJwksServer(keys: readonly ProviderKey[]): Promise<JwksServer> {
  let served = keys
  let fetches = 0
  let failing = false
  const server = createServer((_request, response) => {
    fetches += 1
    if (failing) {
      response.writeHead(503).end()
      return
    }
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ keys: served.map((key) => key.publicJwk) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    get fetches() {
      return fetches
    },
    serve: (next) => {
      served = next
    },
    fail: (next) => {
      failing = next
    },
  }
}

export interface ProviderTokenOptions {
  docs?: unknown
  mode?: string
  sub?: string
  iss?: string
  aud?: string
  /** Seconds from now. Default one hour. */
  expiresIn?: number
  /** Override the header's kid (e.g. a kid the provider never published). */
  kid?: string
}

/** A token as the identity provider would issue it, signed with `key`. */
export function providerToken(key: ProviderKey, options: ProviderTokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  let jwt = new SignJWT({ docs: options.docs ?? ['*'], ...(options.mode ? { mode: options.mode } : {}) })
    .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid })
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 3600))
  if (options.sub !== undefined) jwt = jwt.setSubject(options.sub)
  if (options.iss !== undefined) jwt = jwt.setIssuer(options.iss)
  if (options.aud !== undefined) jwt = jwt.setAudience(options.aud)
  return jwt.sign(key.privateKey)
}
