/**
 * Where a change the room accepted goes, in this order: every other connection of the room,
 * the store (always), the relay (unless it came from the relay: no echo loops), then the
 * change hooks (change-hooks.ts), which run one change at a time in the order accepted.
 * `capture` hands a message's hooks to the connection that sent it, which waits for them
 * before its next message.
 */
import type { ChangeOrigin } from '../hooks.js'
import { encodeUpdate } from '../protocol/messages.js'
import type { RoomRelay } from '../relay/relay.js'
import type { DocStore } from '../storage/doc-store.js'
import type { ChangeHookQueue } from './change-hooks.js'
import { changeOriginOf, RELAY_ORIGIN, type RoomConnection } from './room-connection.js'

export interface FanOutDeps<C> {
  readonly docName: string
  readonly store: DocStore
  readonly connections: ReadonlySet<RoomConnection>
  /** The room's relay membership now (it changes on join and destroy). */
  relay(): RoomRelay
  readonly changeHooks: ChangeHookQueue<C & { readonly origin: ChangeOrigin }> | undefined
  /** The hook argument for one change. */
  change(update: Uint8Array, origin: ChangeOrigin): C & { readonly origin: ChangeOrigin }
  /** Told the size of every change (the MAX_DOC_BYTES bound). */
  grew(bytes: number): void
}

export class FanOut<C> {
  /** Set while `capture` runs: the hooks of the change it caused. */
  private captured: Promise<void> | undefined

  constructor(private readonly deps: FanOutDeps<C>) {}

  /**
   * `hookOrigin`: how the hooks see `origin`, when the room knows better than its connections now.
   * `message`: `encodeUpdate(update)` when the caller has it already (the bytes a client sent,
   * protocol/message-bytes.ts `receivedUpdateMessage`), so a big update is not copied here.
   */
  send(update: Uint8Array, origin: unknown, hookOrigin?: ChangeOrigin, message?: Uint8Array): void {
    const deps = this.deps
    deps.grew(update.byteLength)
    const framed = message ?? encodeUpdate(update)
    for (const connection of deps.connections) {
      if (connection !== origin) connection.send(framed, 'update')
    }
    deps.store.append(deps.docName, update)
    if (origin !== RELAY_ORIGIN) deps.relay().publishUpdate(update)
    if (deps.changeHooks) {
      const seen = hookOrigin ?? changeOriginOf(origin, deps.connections)
      const hooks = deps.changeHooks.report(deps.change(update, seen))
      if (hooks) this.captured = hooks
    }
  }

  /** Runs `act`; returns the change hooks of what it sent, if any run. */
  capture(act: () => void): Promise<void> | undefined {
    this.captured = undefined
    act()
    const hooks = this.captured
    this.captured = undefined
    return hooks
  }
}
