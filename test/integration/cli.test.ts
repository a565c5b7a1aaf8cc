/**
 * The `yjs-cluster-server` bin as a user runs it: a child process per call (from the sources;
 * test/integration/package.test.ts runs the packed build), real servers for the tokens.
 * Argument checks that need no process of their own go through `dispatch` in process
 * (each child process costs 2-4 s of tsx start-up on a loaded machine).
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { offlineAdapters } from '../../src/adapters.js'
import type { CliContext } from '../../src/cli/command.js'
import { commands } from '../../src/cli/commands.js'
import { dispatch } from '../../src/cli/dispatch.js'
import { ExitCode } from '../../src/cli/exit-codes.js'
import { rawUpgrade } from '../helpers/http.js'
import { BIN, runCli } from '../helpers/run-cli.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TEST_ADMIN_TOKEN, TEST_SECRET } from '../helpers/tokens.js'

describe('yjs-cluster-server --help', () => {
  it('lists every registered command and the exit codes', async () => {
    const run = await runCli(BIN, ['--help'])
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    for (const command of commands) expect(run.stdout).toContain(`  ${command.name} `)
    expect(run.stdout).toMatch(/exit codes: 0 ok, 1 failure, 2 usage error/)
  })

  it.each(commands.map((command) => command.name))(
    '%s --help prints its usage on stdout in the one format, exit 0',
    async (name) => {
      const run = await inProcess([name, '--help'])
      expect(run.code, run.stderr).toBe(ExitCode.ok)
      // The shape formatUsage gives every command (src/cli/usage.ts).
      const synopsis = name === 'serve' ? '\\[serve\\]' : name
      expect(run.stdout).toMatch(new RegExp(`^usage: yjs-cluster-server ${synopsis}`))
      expect(run.stdout).toMatch(/\n {2}-h, --help +this text\n\n/)
      expect(run.stdout).toMatch(/\n\nexit codes: 0 /)
      expect(run.stdout.endsWith('\n')).toBe(true)
      expect(run.stderr).toBe('')
    },
  )

  it.each(commands.map((command) => command.name))(
    '%s with an unknown flag: "error: …", then its usage, on stderr; exit 2',
    async (name) => {
      const help = await inProcess([name, '--help'])
      const run = await inProcess([name, '--no-such-flag'])
      expect(run.code).toBe(ExitCode.usage)
      expect(run.stdout).toBe('')
      expect(run.stderr.startsWith("error: Unknown option '--no-such-flag'")).toBe(true)
      expect(run.stderr.endsWith(`\n\n${help.stdout}`)).toBe(true)
    },
  )

  it('simulate: a value out of range is a usage error like any other (usage printed, exit 2)', async () => {
    const help = await inProcess(['simulate', '--help'])
    const run = await inProcess(['simulate', '--url', 'ws://127.0.0.1:1', '--editors', '0'])
    expect(run.code).toBe(ExitCode.usage)
    expect(run.stderr.split('\n')[0]).toBe('error: --editors must be an integer from 1 to 1000 (got 0)')
    // Flags in seconds are answered in seconds, not in the library's milliseconds.
    const long = await inProcess(['simulate', '--url', 'ws://127.0.0.1:1', '--duration', '100000'])
    expect(long.code).toBe(ExitCode.usage)
    expect(long.stderr.split('\n')[0]).toBe(
      'error: --duration must be from 0.001 to 86400 seconds (got 100000)',
    )
    const offline = await inProcess([
      'simulate',
      '--url',
      'ws://127.0.0.1:1',
      '--chaos',
      '1',
      '--offline',
      '700',
    ])
    expect(offline.stderr.split('\n')[0]).toBe('error: --offline must be from 0 to 600 seconds (got 700)')
    expect(run.stderr.endsWith(`\n\n${help.stdout}`)).toBe(true)
    const negative = await inProcess(['simulate', '--url', 'ws://127.0.0.1:1', '--docs', '-1'])
    expect(negative.code).toBe(ExitCode.usage)
    expect(negative.stderr).toBe(`error: --docs must be 0 or more (got "-1")\n\n${help.stdout}`)
  })

  it('refuses an unknown command with exit 2 and the command list', async () => {
    const run = await inProcess(['frobnicate'])
    expect(run.code).toBe(ExitCode.usage)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('unknown command "frobnicate"')
    expect(run.stderr).toContain('  token ')
  })

  it('serve stops on a bad setting with one line naming it, exit 1', async () => {
    const run = await runCli(BIN, ['serve'], { PORT: '99999' })
    expect(run.code).toBe(ExitCode.failure)
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^configuration error: PORT /)])
  })
})

describe('yjs-cluster-server token', () => {
  it('mints a token the server accepts for the granted docs only', async () => {
    const server = await startServer({ authSecret: TEST_SECRET })
    const run = await runCli(BIN, ['token', '--docs', 'team-a/*,lobby', '--sub', 'alice', '--ttl', '15m'], {
      AUTH_SECRET: TEST_SECRET,
    })
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    const token = run.stdout.trim()
    expect(run.stdout).toBe(`${token}\n`)
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({ docs: ['team-a/*', 'lobby'], sub: 'alice' })
    expect(claims.exp! - claims.iat!).toBe(15 * 60)
    expect(claims.mode).toBeUndefined()

    const query = `?token=${token}`
    expect((await rawUpgrade(server.port, `/team-a%2Fplan${query}`)).status).toBe(101)
    expect((await rawUpgrade(server.port, `/lobby${query}`)).status).toBe(101)
    expect((await rawUpgrade(server.port, `/team-b%2Fplan${query}`)).status).toBe(403)
    // Signed with another secret: the server does not know it.
    const other = await runCli(BIN, ['token', '--docs', '*', '--secret', 'x'.repeat(40)])
    expect((await rawUpgrade(server.port, `/lobby?token=${other.stdout.trim()}`)).status).toBe(401)
  })

  it('mints a read-only token when asked', async () => {
    const run = await runCli(BIN, ['token', '--docs', '*', '--mode', 'read', '--ttl', '2d'], {
      AUTH_SECRET: TEST_SECRET,
    })
    expect(run.code, run.stderr).toBe(ExitCode.ok)
    const claims = decodeJwt(run.stdout.trim())
    expect(claims).toMatchObject({ docs: ['*'], mode: 'read' })
    expect(claims.exp! - claims.iat!).toBe(2 * 86_400)
  })

  it.each([
    [['--docs', '*'], {}, /no signing key/],
    [['--docs', '*'], { AUTH_SECRET: 'short' }, /at least 32 bytes/],
    [[], { AUTH_SECRET: TEST_SECRET }, /--docs is required/],
    [['--docs', '*', '--mode', 'admin'], { AUTH_SECRET: TEST_SECRET }, /--mode must be write or read/],
    [['--docs', '*', '--ttl', '3 weeks'], { AUTH_SECRET: TEST_SECRET }, /--ttl must be like/],
    [['--docs', '*', '--ttl', '400d'], { AUTH_SECRET: TEST_SECRET }, /at most 365d/],
    [['--docs', '*', '--ttl', ' 90'], { AUTH_SECRET: TEST_SECRET }, /--ttl must be like .*got " 90"/],
    [['--docs', '*', '--bogus'], { AUTH_SECRET: TEST_SECRET }, /Unknown option '--bogus'/],
  ])('refuses %j with exit 2 and nothing on stdout', async (args, env, message) => {
    const run = await inProcess(['token', ...args], env)
    expect(run.code).toBe(ExitCode.usage)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(message)
  })
})

describe('yjs-cluster-server export --out', () => {
  it('a file that cannot be written is a failure, not a silent success', async () => {
    const dataDir = await tempDir('yws-cli-export-')
    const adapters = offlineAdapters(dataDir, { readOnly: false })
    await adapters.store.open()
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'kept')
    await adapters.store.append('exported', Y.encodeStateAsUpdate(doc))
    await adapters.close()
    const out = join(dataDir, 'no-such-dir', 'backup.ndjson')
    const run = await inProcess(['export', '--data-dir', dataDir, '--out', out])
    expect(run.code).toBe(ExitCode.failure)
    expect(run.stderr).toContain(`export: cannot write ${out}: ENOENT`)
    expect(run.stderr).not.toContain('exported 1 docs')
  })
})

describe('export and import: a bad path is one clear line, and nothing is created', () => {
  it('import --in a missing file: one line, exit 1, no data directory (a real process: it used to crash)', async () => {
    const root = await tempDir('yws-cli-in-')
    const dataDir = join(root, 'data')
    const missing = join(root, 'missing.ndjson')
    const run = await runCli(BIN, ['import', '--data-dir', dataDir, '--in', missing])
    expect(run.code).toBe(ExitCode.failure)
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `import: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    ])
    expect(existsSync(dataDir)).toBe(false)
  })

  it('offline import that fails midway creates nothing: no data directory, no parent, no staging dir', async () => {
    const root = await tempDir('yws-cli-in-')
    const dataDir = join(root, 'new-parent', 'data')
    const update = Buffer.from(Y.encodeStateAsUpdate(new Y.Doc({ gc: false }))).toString('base64')
    const input = join(root, 'half.ndjson')
    await writeFile(input, `${JSON.stringify({ name: 'first', update })}\n{oops\n`)
    const run = await inProcess(['import', '--data-dir', dataDir, '--in', input])
    expect(run.code).toBe(ExitCode.failure)
    expect(run.stderr).toMatch(/line 2: not valid JSON.*nothing was written to/)
    expect(await readdir(root)).toEqual(['half.ndjson'])
  })

  it('offline import that fails midway into an existing directory keeps the docs before the bad line, and says so', async () => {
    const root = await tempDir('yws-cli-in-')
    const dataDir = join(root, 'data')
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'kept')
    const line = (name: string) =>
      JSON.stringify({ name, update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64') })
    await writeFile(join(root, 'ok.ndjson'), `${line('before')}\n`)
    expect((await inProcess(['import', '--data-dir', dataDir, '--in', join(root, 'ok.ndjson')])).code).toBe(0)
    await writeFile(join(root, 'half.ndjson'), `${line('merged')}\n{oops\n`)
    const run = await inProcess(['import', '--data-dir', dataDir, '--in', join(root, 'half.ndjson')])
    expect(run.code).toBe(ExitCode.failure)
    expect(run.stderr).toMatch(/line 2: not valid JSON; 1 docs were imported before it/)
    const adapters = offlineAdapters(dataDir, { readOnly: true })
    await adapters.store.open()
    const names: string[] = []
    for await (const stats of adapters.store.listDocs()) names.push(stats.docName)
    await adapters.close()
    expect(names).toEqual(['before', 'merged'])
  })

  it('import --in a missing file or a directory through --url blames the file, not the instance', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
    const root = await tempDir('yws-cli-in-')
    const target = ['--url', `http://127.0.0.1:${server.port}`, '--admin-token', TEST_ADMIN_TOKEN]
    const missing = await inProcess(['import', ...target, '--in', join(root, 'missing')])
    expect(missing.code).toBe(ExitCode.failure)
    expect(missing.stderr).toBe(
      `import: cannot read ${join(root, 'missing')}: ENOENT: no such file or directory, open '${join(root, 'missing')}'\n`,
    )
    const directory = await inProcess(['import', ...target, '--in', root])
    expect(directory.stderr).toBe(`import: cannot read ${root}: it is a directory\n`)
  })

  it('offline read-only commands never create the directory; missing and empty ones get compact’s wording', async () => {
    const root = await tempDir('yws-cli-ro-')
    const missing = join(root, 'nx1')
    const empty = join(root, 'empty')
    await mkdir(empty)
    const exportMissing = await inProcess(['export', '--data-dir', missing])
    expect(exportMissing.code).toBe(ExitCode.failure)
    expect(exportMissing.stderr).toBe(
      `export: ${missing} is not a LevelDB data directory (it does not exist)\n`,
    )
    const out = join(root, 'out.ndjson')
    const exportEmpty = await inProcess(['export', '--data-dir', empty, '--out', out])
    expect(exportEmpty.stderr).toBe(`export: ${empty} is not a LevelDB data directory (no CURRENT file)\n`)
    const migrate = await inProcess([
      'import',
      '--data-dir',
      join(root, 'data'),
      '--from-y-leveldb',
      join(root, 'typo'),
    ])
    expect(migrate.code).toBe(ExitCode.failure)
    expect(migrate.stderr).toBe(
      `import: ${join(root, 'typo')} is not a LevelDB data directory (it does not exist)\n`,
    )
    const compact = await inProcess(['compact', '--data-dir', empty, '--dry-run'])
    expect(compact.stderr).toBe(`error: ${empty} is not a LevelDB data directory (no CURRENT file)\n`)
    expect((await readdir(root)).sort()).toEqual(['empty'])
    expect(await readdir(empty)).toEqual([])
  })

  it('export --url with an --out that cannot be written says so once', async () => {
    const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
    const out = '/proc/nope/x'
    const target = ['--url', `http://127.0.0.1:${server.port}`, '--admin-token', TEST_ADMIN_TOKEN]
    const run = await inProcess(['export', ...target, '--out', out])
    expect(run.code).toBe(ExitCode.failure)
    expect(run.stderr).toMatch(/^export: cannot write \/proc\/nope\/x: ENOENT[^\n]*\n$/)
  })
})

/** Runs the CLI's dispatch in this process with captured output. */
async function inProcess(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = { stdout: '', stderr: '' }
  const sink = (key: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk, _encoding, callback) {
        output[key] += String(chunk)
        callback()
      },
    })
  const context: CliContext = {
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    env,
    signal: new AbortController().signal,
  }
  const code = await dispatch(argv, commands, context)
  return { code, ...output }
}
