/**
 * One simulated editor: a Y.Doc bound to the server by a stock y-websocket WebsocketProvider
 * (Node `ws` as the WebSocket, BroadcastChannel off so editors in one process never bypass
 * the server), a seeded typist, and the connection events the verdict reports. The editor
 * owns its timers; `stop()` and `destroy()` clear them and are safe to call twice.
 */
import type { PRNG } from 'lib0/prng'
import * as prng from 'lib0/prng'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import type { DeliveryTracker } from './sim-latency.js'
import { TYPING_ORIGIN, Typist } from './sim-typing.js'

/** Connection events of a whole run, shared by all editors. */
export interface ConnectionStats {
  /** Connections opened after an editor's first one (server restarts, drops, chaos). */
  reconnects: number
  /** Failed connection attempts (refused, HTTP 401/403/503 on the upgrade, …). */
  connectErrors: number
  /** Closes with a 4400–4499 code, after which a stock client gives up on the doc. */
  terminalCloses: number
  /** Edits that threw. */
  editErrors: number
  /** Close codes seen by the editors (`local` for closes the client made itself). */
  readonly closeCodes: Record<string, number>
  /** The first few distinct error messages, for the report. */
  readonly samples: string[]
}

export function emptyStats(): ConnectionStats {
  return { reconnects: 0, connectErrors: 0, terminalCloses: 0, editErrors: 0, closeCodes: {}, samples: [] }
}

const MAX_SAMPLES = 10

function sample(stats: ConnectionStats, message: string): void {
  if (stats.samples.length < MAX_SAMPLES && !stats.samples.includes(message)) stats.samples.push(message)
}

export interface SimEditorOptions {
  readonly id: string
  readonly url: string
  readonly docName: string
  readonly token?: string
  readonly tag: string
  readonly random: PRNG
  readonly stats: ConnectionStats
  readonly tracker: DeliveryTracker
}

export class SimEditor {
  readonly id: string
  readonly url: string
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  readonly typist: Typist
  /** The last connection error, to explain an editor that never syncs. */
  lastError: string | undefined
  /**
   * The server refused the upgrade with 401 or 403: retrying with the same token cannot
   * succeed, so the run stops instead of waiting out its connect timeout.
   */
  refusedStatus: 401 | 403 | undefined
  private everConnected = false
  private typingTimer: NodeJS.Timeout | undefined
  private chaosTimer: NodeJS.Timeout | undefined
  private offlineTimer: NodeJS.Timeout | undefined
  private readonly random: PRNG
  private readonly stats: ConnectionStats

  constructor(options: SimEditorOptions) {
    this.id = options.id
    this.url = options.url
    this.random = options.random
    this.stats = options.stats
    this.typist = new Typist(options.random, options.tag)
    const tracker = options.tracker
    tracker.addEditor(this.doc.clientID)
    this.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin === TYPING_ORIGIN)
        tracker.recordEdit(this.doc.clientID, Y.getState(this.doc.store, this.doc.clientID))
      else tracker.observe(this.doc.clientID, this.doc)
    })
    this.provider = new WebsocketProvider(options.url, options.docName, this.doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
      ...(options.token ? { params: { token: options.token } } : {}),
      // Reconnect within a second of a server coming back: a deploy rehearsal wants editors
      // back as soon as an instance is, not after the default 2.5 s backoff ceiling.
      maxBackoffTime: 1000,
    })
    this.watchConnection()
  }

  private watchConnection(): void {
    const { provider, stats } = this
    provider.on('status', ({ status }) => {
      if (status !== 'connected') return
      if (this.everConnected) stats.reconnects += 1
      this.everConnected = true
    })
    provider.on('connection-error', (event) => {
      stats.connectErrors += 1
      const error = event as unknown as { message?: string; error?: { message?: string } }
      this.lastError = error.message || error.error?.message || 'connection error'
      // How `ws` reports an upgrade answered with an HTTP status instead of 101.
      const status = /^Unexpected server response: (40[13])$/.exec(this.lastError)?.[1]
      if (status !== undefined) this.refusedStatus = status === '401' ? 401 : 403
      sample(stats, `connect ${this.url}: ${this.lastError}`)
    })
    provider.on('connection-close', (event) => {
      const code = event ? String(event.code) : 'local'
      stats.closeCodes[code] = (stats.closeCodes[code] ?? 0) + 1
    })
    provider.on('closed', ({ code, reason }) => {
      stats.terminalCloses += 1
      this.lastError = `closed for good with ${code}${reason ? ` (${reason})` : ''}`
      sample(stats, `${this.id}: ${this.lastError}`)
    })
  }

  get synced(): boolean {
    return this.provider.synced
  }

  /** Types at `rate` edits per second on average (uniform jitter ±50 %) until `stop()`. */
  startTyping(rate: number, onEdit: () => void): void {
    const mean = 1000 / rate
    const schedule = () => {
      this.typingTimer = setTimeout(
        () => {
          try {
            this.typist.edit(this.doc)
            onEdit()
          } catch (error) {
            this.stats.editErrors += 1
            sample(this.stats, `${this.id}: edit failed: ${error instanceof Error ? error.message : error}`)
          }
          schedule()
        },
        mean * (0.5 + prng.real53(this.random)),
      )
    }
    schedule()
  }

  /**
   * Chaos: on average `perMinute` times a minute, either drop the connection (the provider
   * reconnects by itself) or go offline for up to `maxOfflineMs` and come back. The editor
   * keeps typing while offline, as a real one would.
   */
  startChaos(perMinute: number, maxOfflineMs: number): void {
    const mean = 60_000 / perMinute
    const schedule = () => {
      this.chaosTimer = setTimeout(
        () => {
          if (prng.bool(this.random)) {
            // A dropped connection: close the socket under the provider.
            this.provider.ws?.close()
          } else if (this.offlineTimer === undefined) {
            this.provider.disconnect()
            this.offlineTimer = setTimeout(
              () => this.comeBack(),
              100 + prng.real53(this.random) * Math.max(0, maxOfflineMs - 100),
            )
          }
          schedule()
        },
        mean * 2 * prng.real53(this.random),
      )
    }
    schedule()
  }

  private comeBack(): void {
    clearTimeout(this.offlineTimer)
    this.offlineTimer = undefined
    this.provider.connect()
  }

  /** Stops typing and chaos; an editor that chaos took offline connects again now. */
  stop(): void {
    clearTimeout(this.typingTimer)
    clearTimeout(this.chaosTimer)
    this.typingTimer = undefined
    this.chaosTimer = undefined
    if (this.offlineTimer !== undefined) this.comeBack()
  }

  destroy(): void {
    this.stop()
    this.provider.awareness.destroy()
    this.provider.destroy()
    this.doc.destroy()
  }
}
