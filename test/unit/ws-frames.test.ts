/**
 * src/transport/ws-frames.ts writes frames past ws, relying on ws internals listed in its
 * header. These tests fail if a ws upgrade changes any of them.
 */
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import * as wsModule from 'ws'
import { WebSocket, WebSocketServer } from 'ws'
import { binaryFrame, FrameOutbox, frameBytes, rawSocketOf } from '../../src/transport/ws-frames.js'

const servers: WebSocketServer[] = []
const clients: WebSocket[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate()
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** A real ws server and client on loopback; resolves with the server side of the connection. */
async function pair(perMessageDeflate = false): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate })
  servers.push(wss)
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const port = (wss.address() as AddressInfo).port
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate })
  clients.push(client)
  await new Promise<void>((resolve) => client.once('open', () => resolve()))
  return { server: await serverSide, client }
}

function payload(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff
  return bytes
}

function concatFrame(frame: ReturnType<typeof binaryFrame>): Buffer {
  return Buffer.isBuffer(frame) ? frame : Buffer.concat([frame[0], frame[1]])
}

describe('ws-frames (ws internals we rely on)', () => {
  it('builds the same bytes as ws’s own Sender.frame for every header size', () => {
    const { Sender } = wsModule as unknown as {
      Sender: { frame: (data: Buffer, options: object) => Buffer[] }
    }
    for (const length of [0, 1, 125, 126, 65_535, 65_536, 70_000]) {
      const data = Buffer.from(payload(length, length))
      const theirs = Buffer.concat(
        Sender.frame(data, { fin: true, opcode: 2, mask: false, readOnly: false, rsv1: false }),
      )
      const ours = binaryFrame(data)
      expect(concatFrame(ours).equals(theirs), `length ${length}`).toBe(true)
      expect(frameBytes(ours)).toBe(theirs.byteLength)
    }
  })

  it('shares one frame across a run of sends of the same message', () => {
    const message = payload(30, 1)
    expect(binaryFrame(message)).toBe(binaryFrame(message))
    expect(binaryFrame(payload(30, 1))).not.toBe(binaryFrame(message))
  })

  it('exposes the socket and an idle sender on a server-side ws without compression', async () => {
    const { server } = await pair()
    const socket = rawSocketOf(server)
    expect(socket).toBeDefined()
    expect((server as unknown as { _sender: { _state: number } })._sender._state).toBe(0)
  })

  it('refuses to write past ws when permessage-deflate was negotiated', async () => {
    const { server } = await pair(true)
    expect(server.extensions).toContain('permessage-deflate')
    expect(rawSocketOf(server)).toBeUndefined()
  })

  it('keeps frames written past ws in order with ws.send and ping, bytes intact', async () => {
    const { server, client } = await pair()
    const socket = rawSocketOf(server)
    if (!socket) throw new Error('no raw socket')
    const outbox = new FrameOutbox(server, socket)
    const received: Buffer[] = []
    let pings = 0
    client.on('ping', () => {
      pings += 1
      received.push(Buffer.from('ping'))
    })
    client.on('message', (data: Buffer) => received.push(Buffer.from(data)))
    const big = payload(100_000, 7)
    const expected: Buffer[] = []
    const viaOutbox = (message: Uint8Array): void => {
      outbox.push(binaryFrame(message))
      expected.push(Buffer.from(message))
    }
    viaOutbox(payload(3, 1))
    viaOutbox(payload(200, 2)) // two frames in one tick: written as one buffer
    outbox.flush()
    server.send(payload(5, 3), { binary: true })
    expected.push(Buffer.from(payload(5, 3)))
    viaOutbox(big) // over the shared-frame size: header and payload written separately
    viaOutbox(payload(1, 4))
    outbox.flush()
    server.ping()
    expected.push(Buffer.from('ping'))
    viaOutbox(payload(70_000, 5)) // flushed at the end of the tick by itself
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (received.length >= expected.length) resolve()
        else setImmediate(check)
      }
      check()
    })
    expect(pings).toBe(1)
    expect(received.map((b) => b.toString('hex'))).toEqual(expected.map((b) => b.toString('hex')))
  })

  it('counts bytes written past ws in ws.bufferedAmount (the send budget)', async () => {
    const { server, client } = await pair()
    const socket = rawSocketOf(server)
    if (!socket) throw new Error('no raw socket')
    client.pause() // the client stops reading: the bytes stay in the server's buffers
    const outbox = new FrameOutbox(server, socket)
    const message = payload(1024 * 1024, 9)
    // Each frame is over 16 KiB, so each is written at once (nothing big waits for the tick).
    for (let i = 0; i < 32; i++) outbox.push(binaryFrame(message))
    expect(outbox.queuedBytes).toBe(0)
    expect(server.bufferedAmount).toBe(socket.writableLength)
    expect(server.bufferedAmount).toBeGreaterThan(0)
    // Small frames wait for the end of the tick, counted in queuedBytes meanwhile.
    outbox.push(binaryFrame(payload(100, 1)))
    expect(outbox.queuedBytes).toBe(102)
  })
})
