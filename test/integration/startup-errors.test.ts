/**
 * Issue 10 part 7: faults a new user hits first. Start-up errors name the setting and the
 * real cause; a doc name the stock client sends unencoded ("50% plan") just works.
 */
import { spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { chmod, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ExitCode } from '../../src/cli/exit-codes.js'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { connectSynced } from '../helpers/clients.js'
import { rawUpgrade } from '../helpers/http.js'
import { spawnServer, startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TEST_ADMIN_TOKEN } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const isRoot = process.getuid?.() === 0
/** An unprivileged user for the permission tests when we run as root (root ignores modes). */
const NOBODY = 65534

/**
 * Whether nobody can reach the checkout: every directory above it must be searchable by
 * others. A clone inside a 0700 directory (e.g. `mktemp -d`) cannot run children as nobody,
 * so the permission tests are skipped there, visibly, rather than fail on module resolution.
 */
function checkoutReachableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}
const canDropPrivileges = !isRoot || checkoutReachableByOthers(ROOT)

/**
 * A data directory this process's children cannot use: owned by root with mode 0700 and the
 * child run as nobody when we are root, mode 0 otherwise. Holds a real store (LOCK file).
 */
async function forbiddenDataDir(): Promise<string> {
  const parent = await tempDir('yws-perm-')
  const dataDir = join(parent, 'data')
  const store = new LevelDocStore(dataDir)
  await store.open()
  await store.close()
  await chmod(parent, 0o755)
  await chmod(dataDir, isRoot ? 0o700 : 0o000)
  onTestFinished(() => chmod(dataDir, 0o700))
  return dataDir
}

/**
 * Runs `node --import tsx <script> args` (unprivileged unless `dropPrivileges` is false);
 * resolves with its exit code and stderr.
 */
function runUnprivileged(script: string, args: string[], env: Record<string, string>, dropPrivileges = true) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(isRoot && dropPrivileges ? { uid: NOBODY, gid: NOBODY } : {}),
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdout.resume()
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  return new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stderr })),
  )
}

describe.skipIf(!canDropPrivileges)('a data directory this user may not use (issue 10)', () => {
  it('the server names the permission problem, not a lock', async () => {
    const dataDir = await forbiddenDataDir()
    const { code, stderr } = await runUnprivileged('src/main.ts', [], { DATA_DIR: dataDir })
    expect(code).not.toBe(0)
    expect(stderr).toMatch(/permission denied \(EACCES\) on DATA_DIR/)
    expect(stderr).not.toMatch(/in use by another process|lock held/)
  })

  it('the compaction tool exits 4 and says why, not "locked" (3)', async () => {
    const dataDir = await forbiddenDataDir()
    // A store it cannot even look into is "not a store" before LevelDB is asked: make the
    // directory listable but not writable, so LevelDB's own LOCK open is what fails.
    await chmod(dataDir, isRoot ? 0o755 : 0o555)
    const { code, stderr } = await runUnprivileged('scripts/compact.ts', ['--data-dir', dataDir], {})
    expect(stderr).toMatch(/permission denied \(EACCES\)/)
    expect(stderr).not.toMatch(/locked/)
    expect(code).toBe(ExitCode.storeAccessDenied)
  })
})

describe('start-up errors name the setting (issue 10)', () => {
  it('an unresolvable HOST', async () => {
    await expect(spawnServer({ HOST: 'no-such-host.invalid', REDIS_URL: '' })).rejects.toThrow(
      /HOST "no-such-host.invalid" does not resolve/,
    )
  })

  it('ADMIN_PORT equal to PORT, and an ADMIN_PORT already in use', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => busy.close(() => resolve())))
    const port = String((busy.address() as { port: number }).port)
    await expect(
      spawnServer({ PORT: '45871', ADMIN_PORT: '45871', ADMIN_TOKEN: TEST_ADMIN_TOKEN, REDIS_URL: '' }),
    ).rejects.toThrow(/ADMIN_PORT must differ from PORT/)
    await expect(
      spawnServer({ ADMIN_PORT: port, ADMIN_TOKEN: TEST_ADMIN_TOKEN, REDIS_URL: '' }),
    ).rejects.toThrow(new RegExp(`ADMIN_PORT ${port} on ADMIN_HOST "127.0.0.1" is already in use`))
  })
})

describe('a failed start says so once (newcomer finding 10)', () => {
  it('PORT in use: the one start-up line, and no "shut down cleanly" after it', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => busy.close(() => resolve())))
    const port = String((busy.address() as { port: number }).port)
    const failure = await spawnServer({
      PORT: port,
      REDIS_URL: '',
      DATA_DIR: await tempDir('yws-busy-'),
    }).then(
      () => undefined,
      (error: Error) => error.message,
    )
    expect(failure).toMatch(new RegExp(`start-up failed: .*${port}.* in use`))
    expect(failure).not.toContain('shut down cleanly')
  })
})

describe('any unusable DATA_DIR fails fast with one line naming it (bugs brief 1)', () => {
  /**
   * /proc/nope used to spin at 99 % CPU forever, never listening and ignoring SIGTERM: Node's
   * recursive mkdir loops where mkdir answers ENOENT under an existing parent.
   */
  it.each([
    ['under /proc', () => '/proc/nope', /DATA_DIR \/proc\/nope: mkdir \/proc\/nope failed \(ENOENT\)/],
    ['deeper under /proc', () => '/proc/nope/a/b', /DATA_DIR \/proc\/nope\/a\/b: mkdir \/proc\/nope failed/],
    [
      'a file',
      async () => fileIn(await tempDir('yws-dd-')),
      /DATA_DIR .*\/file: it exists and is not a directory/,
    ],
    [
      'under a file',
      async () => `${await fileIn(await tempDir('yws-dd-'))}/sub`,
      /DATA_DIR .*\/file\/sub: its parent .*\/file exists and is not a directory/,
    ],
    ['/proc itself', () => '/proc', /DATA_DIR \/proc: IO error/],
  ])('%s', async (_, dataDir, message) => {
    const { code, stderr } = await runUnprivileged('src/main.ts', [], { DATA_DIR: await dataDir() }, false)
    expect(code).toBe(1)
    const lines = stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^start-up failed: cannot open LevelDB at /)
    expect(lines[0]).toMatch(message)
  })
})

async function fileIn(dir: string): Promise<string> {
  const file = join(dir, 'file')
  await writeFile(file, 'x')
  return file
}

describe('doc names as the stock client sends them (issue 10)', () => {
  it('"50% plan" (sent unencoded) opens and syncs instead of 400 forever', async () => {
    const server = await startServer()
    const ada = await connectSynced(server.url, '50% plan')
    const bob = await connectSynced(server.url, '50% plan')
    ada.text.insert(0, 'half')
    await waitFor(() => bob.text.toString() === 'half', { what: 'Bob to get the edit' })
    expect(server.app.registry.get('50% plan')).toBeDefined()
  })

  it('still refuses escapes that are not UTF-8, and takes a stray % literally', async () => {
    const server = await startServer()
    expect((await rawUpgrade(server.port, '/%C3%28')).status).toBe(400)
    expect((await rawUpgrade(server.port, '/%00evil')).status).toBe(400)
    expect((await rawUpgrade(server.port, '/100%')).status).toBe(101)
  })
})
