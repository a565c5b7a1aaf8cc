import { describe, expect, it } from 'vitest'
import { parseCompactArgs } from '../../src/cli/compact-args.js'

function run(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseCompactArgs(argv, env)
  if (parsed.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(parsed)}`)
  return parsed.args
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  const parsed = parseCompactArgs(argv, env)
  if (parsed.kind !== 'usage-error') throw new Error(`expected a usage error, got ${JSON.stringify(parsed)}`)
  return parsed.message
}

describe('parseCompactArgs', () => {
  it('defaults: compact everything with gc, write, table output', () => {
    expect(run(['--data-dir', 'data'])).toEqual({
      source: { kind: 'dir', dataDir: 'data' },
      mode: 'compact',
      doc: undefined,
      prefix: undefined,
      dryRun: false,
      gc: true,
      json: false,
      quiet: false,
      historyKeep: undefined,
    })
  })

  it('--history-keep takes a whole number ≥ 1 and never goes with --verify', () => {
    expect(run(['--data-dir', 'd', '--history-keep', '5']).historyKeep).toBe(5)
    expect(usageError(['--data-dir', 'd', '--history-keep', '0'])).toContain('--history-keep')
    expect(usageError(['--data-dir', 'd', '--history-keep', '2x'])).toContain('--history-keep')
    expect(usageError(['--data-dir', 'd', '--history-keep', '3', '--verify'])).toContain('--history-keep')
  })

  it('reads every flag', () => {
    const args = run(['--data-dir=d', '--prefix', 'team/', '--dry-run', '--no-gc', '--json', '--quiet'])
    expect(args).toMatchObject({ prefix: 'team/', dryRun: true, gc: false, json: true, quiet: true })
    expect(run(['--data-dir', 'd', '--verify']).mode).toBe('verify')
    expect(parseCompactArgs(['-h']).kind).toBe('help')
  })

  it('takes the admin token from the flag, else ADMIN_TOKEN', () => {
    expect(run(['--url', 'http://127.0.0.1:1234/', '--admin-token', 't']).source).toEqual({
      kind: 'admin',
      url: 'http://127.0.0.1:1234',
      adminToken: 't',
    })
    expect(run(['--url', 'http://h:1'], { ADMIN_TOKEN: 'env' }).source).toMatchObject({ adminToken: 'env' })
  })

  it.each([
    [['--data-dir', 'd', '--bogus'], /Unknown option '--bogus'/],
    [['--data-dir', 'd', 'extra'], /positional/],
    [['--data-dir'], /argument missing/],
    [[], /exactly one of --data-dir DIR or --url URL/],
    [['--data-dir', 'd', '--url', 'http://h:1'], /exactly one of/],
    [['--data-dir', 'd', '--doc', 'a', '--prefix', 'b'], /at most one of --doc and --prefix/],
    [['--data-dir', 'd', '--doc', 'a\u0001'], /--doc: document name contains control characters/],
    [['--data-dir', 'd', '--gc', '--no-gc'], /at most one of --gc and --no-gc/],
    [['--data-dir', 'd', '--verify', '--dry-run'], /--verify never writes/],
    [['--url', 'http://h:1', '--admin-token', 't', '--verify'], /--verify reads the store directly/],
    [['--url', 'ws://h:1', '--admin-token', 't'], /must be http/],
    [['--url', 'not a url', '--admin-token', 't'], /not a URL/],
    [['--url', 'http://h:1'], /needs --admin-token/],
    [['--data-dir', 'd', '--admin-token', 't'], /only goes with --url/],
  ])('%j is a usage error', (argv, message) => {
    expect(usageError(argv)).toMatch(message)
  })
})
