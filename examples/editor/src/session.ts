/**
 * What both example pages share: reading `?server=&doc=&name=&color=` from the query string,
 * creating the stock y-websocket provider, publishing the user's name/colour in awareness,
 * and keeping the connection-status indicator and the "who is here" list up to date.
 */
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

declare global {
  interface Window {
    /** The page's editor, doc and provider, for debugging in the console and for the browser tests. */
    demo: unknown
  }
}

export interface SessionParams {
  readonly server: string
  readonly doc: string
  readonly name: string
  readonly color: string
}

export interface Session {
  readonly params: SessionParams
  readonly ydoc: Y.Doc
  readonly provider: WebsocketProvider
}

// Distinct, readable caret colours; y-prosemirror wants #rrggbb (it appends an alpha byte).
const PALETTE = ['#d7263d', '#1b998b', '#3066be', '#f46036', '#8e44ad', '#2e7d32', '#c2185b', '#00838f']

function colorFor(name: string): string {
  let hash = 0
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  return PALETTE[hash % PALETTE.length]!
}

export function readParams(search: string = window.location.search): SessionParams {
  const query = new URLSearchParams(search)
  const defaultServer = `ws://${window.location.hostname || '127.0.0.1'}:1234`
  const name = query.get('name') || `Guest ${Math.floor(Math.random() * 1000)}`
  const color = query.get('color')
  return {
    server: query.get('server') || defaultServer,
    doc: query.get('doc') || 'demo',
    name,
    color: color && /^#[0-9a-fA-F]{6}$/.test(color) ? color : colorFor(name),
  }
}

export function startSession(params: SessionParams = readParams()): Session {
  const ydoc = new Y.Doc()
  const provider = new WebsocketProvider(params.server, params.doc, ydoc, {
    // Without this, two tabs of one browser on the same server/doc would sync through a
    // BroadcastChannel and hide what the server does; the demo is about the server.
    disableBc: true,
    // Reconnect quickly after a server restart (default backoff tops out at 2.5 s).
    maxBackoffTime: 1000,
  })
  provider.awareness.setLocalStateField('user', { name: params.name, color: params.color })
  bindStatus(provider)
  bindPresence(provider)
  for (const element of document.querySelectorAll<HTMLElement>('[data-field]')) {
    const field = element.dataset.field as keyof SessionParams
    element.textContent = params[field]
  }
  document.title = `${params.doc} — ${params.name}`
  return { params, ydoc, provider }
}

/** `#status` carries data-status="connecting|connected|disconnected" and data-synced, for people and tests. */
function bindStatus(provider: WebsocketProvider): void {
  const element = document.getElementById('status')
  if (!element) return
  let status = 'connecting'
  const render = () => {
    element.dataset.status = status
    element.dataset.synced = String(provider.synced)
    element.textContent = status === 'connected' && !provider.synced ? 'syncing…' : status
  }
  provider.on('status', (event: { status: string }) => {
    status = event.status
    render()
  })
  provider.on('sync', render)
  render()
}

/** `#users` lists everyone in the doc's awareness, this user first. */
function bindPresence(provider: WebsocketProvider): void {
  const element = document.getElementById('users')
  if (!element) return
  const render = () => {
    const own = provider.awareness.clientID
    const entries = [...provider.awareness.getStates().entries()].sort(([a], [b]) =>
      a === own ? -1 : b === own ? 1 : a - b,
    )
    element.replaceChildren(
      ...entries.flatMap(([clientId, state]) => {
        const user = state.user as { name?: string; color?: string } | undefined
        if (!user?.name) return []
        const chip = document.createElement('li')
        chip.textContent = clientId === own ? `${user.name} (you)` : user.name
        chip.style.setProperty('--user-color', user.color ?? '#888')
        return [chip]
      }),
    )
  }
  provider.awareness.on('change', render)
  render()
}
