/**
 * A usage line promises only what the command line parser takes: no subcommand takes
 * positional arguments, so no synopsis may show one. `import` showed `[source]` and then
 * refused `import --data-dir DIR backup.ndjson` with "does not take positional arguments"
 * (newcomer finding, 2026-12-01).
 */
import { describe, expect, it } from 'vitest'
import { EXPORT_USAGE, IMPORT_USAGE, parseImportArgs } from '../../src/cli/backup-args.js'
import { COMPACT_USAGE } from '../../src/cli/compact-args.js'
import { HISTORY_USAGE, RESTORE_USAGE } from '../../src/cli/history-args.js'
import { SERVE_USAGE } from '../../src/cli/serve-command.js'
import { SIMULATE_USAGE } from '../../src/cli/simulate-args.js'
import { TOKEN_USAGE } from '../../src/cli/token-command.js'

const usages = {
  EXPORT_USAGE,
  IMPORT_USAGE,
  COMPACT_USAGE,
  HISTORY_USAGE,
  RESTORE_USAGE,
  SIMULATE_USAGE,
  TOKEN_USAGE,
}

/** Bracketed or bare words of the synopsis that are neither an option, its value, nor "[options]". */
function positionals(usage: string): string[] {
  const synopsis = usage.split('\n')[0]!.replace(/^usage: \S+ \S+/, '')
  // Brackets and parentheses at a word's edges group; inside a word they are part of it.
  const words = synopsis
    .split(/\s+/)
    .map((word) => word.replace(/^[([]+/, '').replace(/[)\]]+$/, ''))
    .filter((word) => word !== '' && word !== '|')
  return words.filter((word, index) => {
    if (word.startsWith('-') || word === 'options') return false
    // A value placeholder follows its option: `--url URL`.
    return !words[index - 1]?.startsWith('-')
  })
}

describe('usage lines', () => {
  it.each(Object.entries(usages))('%s shows no positional argument', (_, usage) => {
    expect(positionals(usage)).toEqual([])
  })

  it('serve shows only its own name', () => {
    expect(SERVE_USAGE.split('\n')[0]).toMatch(/ \[serve\]$/)
  })

  it('import names the way it takes its source', () => {
    expect(IMPORT_USAGE.split('\n')[0]).toContain('--in FILE')
    expect(parseImportArgs(['--data-dir', 'd', 'backup.ndjson'], {}).kind).toBe('usage-error')
  })
})
