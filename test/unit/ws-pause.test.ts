/**
 * What Connection's inbound flow control relies on in `ws` (public API of ws 8): after
 * `ws.pause()` no more messages are read from the socket (only what ws already read may still
 * come), pings still go out, and `ws.resume()` delivers the rest in order. Fails if ws changes it.
 */
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { waitFor } from '../helpers/wait.js'

describe('ws pause/resume', () => {
  it('stops reading on pause, still pings, and delivers the rest in order on resume', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())))
    await new Promise((resolve) => wss.once('listening', resolve))
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
    onTestFinished(() => client.terminate())
    await new Promise((resolve) => client.once('open', resolve))
    const server = await accepted
    const got: number[] = []
    server.on('message', (data: Buffer) => got.push(data[0]!))

    client.send(Uint8Array.of(0))
    await waitFor(() => got.length === 1)
    server.pause()
    expect(server.isPaused).toBe(true)
    let pings = 0
    client.on('ping', () => {
      pings += 1
    })
    for (let i = 1; i <= 3; i++) client.send(Uint8Array.of(i))
    // The server's pings reach the client; its messages, sent before them, are not read.
    for (let i = 0; i < 3; i++) server.ping()
    await waitFor(() => pings === 3)
    expect(got).toEqual([0])

    server.resume()
    await waitFor(() => got.length === 4)
    expect(got).toEqual([0, 1, 2, 3])
  })
})
