/**
 * Binds an HTTP server and, when that fails, says which setting is wrong: an operator sees
 * `HOST "db01" does not resolve` instead of a bare `getaddrinfo ENOTFOUND db01`.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ListenError } from '../errors.js'

/** The names of the settings a listener was configured from, for error messages. */
export interface ListenSettings {
  readonly host: string
  readonly port: string
}

/**
 * Listens on `host:port` and resolves with the bound port (the chosen one for port 0).
 * Rejects with an error naming the setting at fault (HOST/PORT, ADMIN_HOST/ADMIN_PORT).
 */
export function listen(
  server: Server,
  host: string,
  port: number,
  settings: ListenSettings,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, host, port, settings))
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Rewords a bind failure so it names the setting; unknown failures pass through. */
export function listenError(
  error: NodeJS.ErrnoException,
  host: string,
  port: number,
  settings: ListenSettings,
): Error {
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new ListenError(`${settings.host} "${host}" does not resolve to an address (${error.code})`, {
        cause: error,
      })
    case 'EADDRNOTAVAIL':
      return new ListenError(`${settings.host} "${host}" is not an address of this machine (EADDRNOTAVAIL)`, {
        cause: error,
      })
    case 'EADDRINUSE':
      return new ListenError(
        `${settings.port} ${port} on ${settings.host} "${host}" is already in use (EADDRINUSE)`,
        {
          cause: error,
        },
      )
    case 'EACCES':
      return new ListenError(`${settings.port} ${port} needs privileges this process lacks (EACCES)`, {
        cause: error,
      })
    default:
      return error
  }
}
