/**
 * `simulateEditors` and the `simulate` command against real servers: a standalone instance
 * (with chaos and with auth), a two-instance cluster with one instance restarted mid-run, and
 * a deliberately lossy proxy that drops server→client updates — which must fail the run.
 */
import { PassThrough } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { CliContext } from '../../src/cli/command.js'
import { simulateCommand } from '../../src/cli/simulate-command.js'
import {
  formatVerdict,
  SimulationConnectError,
  type SimulationVerdict,
  simulateEditors,
  startLossyProxy,
} from '../../src/testing/index.js'
import { startTopology } from '../helpers/instances.js'
import { uniquePrefix } from '../helpers/redis.js'
import { startServer } from '../helpers/server.js'
import { TEST_SECRET } from '../helpers/tokens.js'

/** Runs the command in-process with captured streams, the way the bin calls it. */
async function runSimulate(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  const context: CliContext = { stdout, stderr, env: {}, signal: new AbortController().signal }
  const code = await simulateCommand.run(argv, context)
  return { code, stdout: out, stderr: err }
}

function expectOk(verdict: SimulationVerdict): void {
  // The formatted verdict is the failure message: it names the doc and shows the diff.
  expect(verdict.ok, formatVerdict(verdict)).toBe(true)
  expect(verdict.totals.lostEdits).toBe(0)
  expect(verdict.totals.edits).toBeGreaterThan(0)
  expect(verdict.totals.latency.count).toBeGreaterThan(0)
}

describe('simulateEditors against a standalone server', () => {
  it('random disconnects and offline periods lose nothing', async () => {
    const server = await startServer()
    const verdict = await simulateEditors({
      urls: [server.url],
      docs: 2,
      editors: 3,
      rate: 8,
      durationMs: 2500,
      seed: 42,
      chaos: { disconnectsPerMinute: 60, maxOfflineMs: 800 },
    })
    expectOk(verdict)
    expect(verdict.totals.reconnects).toBeGreaterThan(0)
    expect(verdict.totals.editsByKind.delete).toBeGreaterThan(0)
    expect(verdict.totals.editsByKind.format).toBeGreaterThan(0)
    expect(verdict.docs.map((doc) => doc.converged)).toEqual([true, true])
  })

  it('mints a token per editor with --secret; a wrong secret fails fast with the 401', async () => {
    const server = await startServer({ authSecret: TEST_SECRET })
    const ok = await runSimulate([
      '--url',
      server.url,
      '--editors',
      '2',
      '--rate',
      '10',
      '--duration',
      '1',
      '--secret',
      TEST_SECRET,
      '--json',
      '--quiet',
    ])
    expect(ok.code, ok.stderr).toBe(0)
    const verdict = JSON.parse(ok.stdout) as SimulationVerdict
    expect(verdict.ok).toBe(true)
    expect(verdict.totals.edits).toBeGreaterThan(0)

    // A connect timeout longer than the test's own: only stopping at the first 401 ends it.
    const refused = await simulateEditors({
      urls: [server.url],
      editors: 1,
      durationMs: 1000,
      connectTimeoutMs: 600_000,
      secret: 'not-the-servers-secret-at-all-0123456789',
    }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(SimulationConnectError)
    expect(refused).toMatchObject({ refusedStatus: 401 })
    expect((refused as Error).message).toMatch(
      /^editor \S+ was refused by ws:\/\/127\.0\.0\.1:\d+ with HTTP 401 \(no valid token\)$/,
    )
  })

  it('the command without --token against an AUTH_SECRET server stops at the 401 with a hint (newcomer finding 15)', async () => {
    const server = await startServer({ authSecret: TEST_SECRET })
    const run = await runSimulate(['--url', server.url, '--editors', '1', '--duration', '1', '--quiet'])
    expect(run.code).toBe(1)
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^error: editor \S+ was refused by ws:\/\/127\.0\.0\.1:\d+ with HTTP 401 \(no valid token\); the servers check tokens: pass --token T, or --secret S \(their AUTH_SECRET\) to mint one per editor$/,
      ),
    ])
  })
})

describe('a two-instance cluster with a rolling restart', () => {
  it('instance 1 drained (SIGTERM, exit 0) and restarted mid-run: every doc converges, nothing lost', async () => {
    const topology = await startTopology({ redisPrefix: uniquePrefix() })
    onTestFinished(() => topology.close())
    expect(topology.label).toBe('two instances via Redis')
    let restarted: Promise<unknown> | undefined
    const verdict = await simulateEditors({
      urls: [topology.url(0), topology.url(1)],
      docs: 2,
      editors: 4,
      rate: 5,
      durationMs: 4000,
      settleTimeoutMs: 20_000,
      seed: 11,
      progressIntervalMs: 100,
      onProgress: (progress) => {
        // Once, a second into typing. The outcome is kept (not thrown) until the run is over.
        if (progress.phase === 'typing' && progress.elapsedMs >= 1000) {
          restarted ??= topology.restart(1).then(
            () => 'restarted',
            (error: Error) => error.message,
          )
        }
      },
    })
    expect(await restarted).toBe('restarted')
    expectOk(verdict)
    // The editors on instance 1 were closed with 1012 (service restart) and came back.
    expect(verdict.totals.closeCodes['1012']).toBeGreaterThanOrEqual(4)
    expect(verdict.totals.reconnects).toBeGreaterThanOrEqual(4)
  })
})

describe('a lossy relay makes the run fail', () => {
  it('dropped server→client updates: not converged, lost edits named, exit 1 with the diff', async () => {
    const server = await startServer()
    const proxy = await startLossyProxy({ target: server.url, dropRate: 0.2, seed: 7 })
    try {
      const run = await runSimulate([
        '--url',
        proxy.url,
        '--docs',
        '2',
        '--editors',
        '3',
        '--rate',
        '8',
        '--duration',
        '1.5',
        '--settle',
        '1.5',
        '--seed',
        '3',
      ])
      expect(proxy.dropped).toBeGreaterThan(0)
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(/^simulate: FAILED: [12] of 2 docs diverged, \d+ edits lost/)
      expect(run.stdout).toMatch(/first failing doc: sim-\S+\/[01]\n {2}\S+#\d differs from \S+#\d/)
      expect(run.stdout).toMatch(/lost insert "\S+" by \S+#\d: missing on \S+#\d/)
      expect(run.stderr).toMatch(/simulate (\d+\/2 s|connecting|settling): \d\/6 editors connected/)
    } finally {
      await proxy.close()
    }
  })

  it('the verdict object reports the same loss to a test suite', async () => {
    const server = await startServer()
    const proxy = await startLossyProxy({ target: server.url, dropRate: 0.3, seed: 1 })
    try {
      // Half the editors straight to the server, half through the lossy proxy.
      const verdict = await simulateEditors({
        urls: [server.url, proxy.url],
        editors: 4,
        rate: 8,
        durationMs: 1500,
        settleTimeoutMs: 1500,
        seed: 5,
      })
      expect(verdict.ok).toBe(false)
      const doc = verdict.firstFailure!
      expect(doc.converged).toBe(false)
      expect(doc.lostCount).toBeGreaterThan(0)
      // Only editors behind the proxy (odd slots) miss anything.
      const missing = new Set(doc.lost.flatMap((lost) => lost.missingOn))
      for (const id of missing) expect(id).toMatch(/#[13]$/)
      expect(doc.firstDiff).toMatch(/state vector: client \d+/)
    } finally {
      await proxy.close()
    }
  })
})

describe('the lossy proxy itself', () => {
  it('passes the server upgrade refusals through unchanged and drops nothing at rate 0', async () => {
    const server = await startServer({ authSecret: TEST_SECRET })
    const proxy = await startLossyProxy({ target: server.url, dropRate: 0 })
    try {
      const refused = await simulateEditors({
        urls: [proxy.url],
        editors: 1,
        connectTimeoutMs: 2000,
        token: 'not-a-jwt',
      }).then(
        () => 'resolved',
        (error: Error) => error.message,
      )
      expect(refused).toMatch(/was refused by ws:\/\/127\.0\.0\.1:\d+ with HTTP 401/)
      const verdict = await simulateEditors({
        urls: [proxy.url],
        editors: 2,
        rate: 10,
        durationMs: 800,
        secret: TEST_SECRET,
      })
      expectOk(verdict)
      expect(proxy.dropped).toBe(0)
      expect(proxy.forwarded).toBeGreaterThan(0)
    } finally {
      await proxy.close()
    }
  })
})

describe('the simulate command line', () => {
  it('--help prints the usage; bad flags exit 2 naming the flag', async () => {
    const help = await runSimulate(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('usage: yjs-cluster-server simulate --url')
    for (const [argv, message] of [
      [[], /--url is required/],
      [
        ['--url', 'ws://127.0.0.1:1', '--editors', '0'],
        /^error: --editors must be an integer from 1 to 1000 \(got 0\)$/,
      ],
      [['--url', 'ws://127.0.0.1:1', '--rate', 'fast'], /--rate must be a number \(got "fast"\)/],
      [['--url', 'http://127.0.0.1:1'], /^error: --url: http:\/\/127\.0\.0\.1:1 must start with ws:\/\//],
      [['--url', 'ws://127.0.0.1:1', '--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const run = await runSimulate([...argv])
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr.split('\n')[0]).toMatch(message)
    }
  })
})
