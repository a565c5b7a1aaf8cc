/**
 * Every exit code the CLI can end with is listed where an operator looks first: the
 * top-level `--help` and the README's CLI line. Exit 4 (permission denied on the data
 * directory, compact/export/import) was missing from both, and the README's command list
 * lacked `history` and `restore` (newcomer finding, 2026-12-01).
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { commands } from '../../src/cli/commands.js'
import { topLevelUsage } from '../../src/cli/dispatch.js'
import { ExitCode } from '../../src/cli/exit-codes.js'

const codes = Object.values(ExitCode)

describe('exit codes in the top-level help and the README', () => {
  it('the top-level --help names every exit code', () => {
    const line = topLevelUsage(commands).split('exit codes:')[1] ?? ''
    for (const code of codes) expect(line, `exit code ${code}`).toMatch(new RegExp(`\\b${code} `))
  })

  it("the README's CLI line names every exit code", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
    const line = readme.split('**CLI:**')[1]?.split('\n- ')[0] ?? ''
    for (const code of codes) expect(line, `exit code ${code}`).toMatch(new RegExp(`\\b${code} `))
  })

  it("the README's CLI line names every command", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
    const listed = /\[([a-z|]+)\] --help/.exec(readme.split('**CLI:**')[1] ?? '')?.[1]?.split('|')
    expect(listed?.sort()).toEqual(commands.map((command) => command.name).sort())
  })
})
