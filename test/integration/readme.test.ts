/**
 * The README's "Connect an editor" snippet, run as written in Node 20 against a real server:
 * only the server URL is swapped for the test server's (tests never use port 1234), and in
 * the auth case the token placeholder for a token the CLI's minting code made.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { mintToken } from '../../src/cli/token-command.js'
import { spawnLogged } from '../helpers/npm-process.js'
import { startServer } from '../helpers/server.js'
import { TEST_SECRET } from '../helpers/tokens.js'
import { waitFor } from '../helpers/wait.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

async function readmeSnippet(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Connect an editor'))
  const match = /```js\n([\s\S]*?)```/.exec(section)
  if (!match) throw new Error('README has no js block under "Connect an editor"')
  return match[1]!
}

/** Writes the snippet inside the checkout (so its imports resolve) and runs it with node. */
async function runSnippet(code: string) {
  const dir = join(ROOT, 'test-output')
  await mkdir(dir, { recursive: true })
  const file = join(dir, `readme-snippet-${process.pid}-${Date.now()}.mjs`)
  await writeFile(file, code)
  const run = spawnLogged(process.execPath, [file], { cwd: ROOT })
  onTestFinished(() => {
    run.child.kill('SIGKILL')
  })
  return run
}

describe('README connect snippet', () => {
  it('is the one the README shows and uses the documented URL', async () => {
    const code = await readmeSnippet()
    expect(code).toContain("'ws://localhost:1234'")
    expect(code).toContain("const token = 'paste-a-token-here'")
  })

  it('syncs against a server without auth, as written', async () => {
    const server = await startServer()
    const code = (await readmeSnippet()).replace("'ws://localhost:1234'", `'${server.url}'`)
    const run = await runSnippet(code)
    await waitFor(() => run.output.stdout.includes('synced "team/notes": 0 characters'), {
      timeoutMs: 20_000,
      what: `the snippet to sync (stderr: ${run.output.stderr})`,
    })
    expect(server.app.registry.get('team/notes')?.connectionCount).toBe(1)
    expect(run.output.stderr).toBe('')
  })

  it('syncs against a server with AUTH_SECRET, given a minted token', async () => {
    const server = await startServer({ authSecret: TEST_SECRET })
    const token = await mintToken({
      docs: ['team/*'],
      sub: 'ada',
      mode: 'write',
      ttlSeconds: 600,
      secret: TEST_SECRET,
    })
    const code = (await readmeSnippet())
      .replace("'ws://localhost:1234'", `'${server.url}'`)
      .replace("'paste-a-token-here'", `'${token}'`)
    const run = await runSnippet(code)
    await waitFor(() => run.output.stdout.includes('synced "team/notes"'), {
      timeoutMs: 20_000,
      what: `the snippet to sync (stderr: ${run.output.stderr})`,
    })
    expect(server.app.registry.get('team/notes')?.connectionCount).toBe(1)
  })
})
