import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { parseExportArgs, parseImportArgs } from '../../src/cli/backup-args.js'
import {
  decodeBackupLine,
  encodeBackupLine,
  ImportStoppedError,
  importBackup,
  LineTooLongError,
  ndjsonLines,
  readAhead,
} from '../../src/document/backup-format.js'

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

async function* chunks(...parts: (string | Buffer)[]) {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part
}

describe('ndjsonLines', () => {
  it('splits across chunk borders, strips CR, skips blank lines but counts them', async () => {
    const lines = await collect(ndjsonLines(chunks('{"a"', ':1}\r\n\n{"b":2}\n{"c"', ':3}'), 100))
    expect(lines).toEqual([
      { line: '{"a":1}', number: 1 },
      { line: '{"b":2}', number: 3 },
      { line: '{"c":3}', number: 4 },
    ])
  })

  it('refuses a line over the limit, even one that never ends', async () => {
    await expect(collect(ndjsonLines(chunks('x'.repeat(50), 'y'.repeat(60)), 100))).rejects.toThrow(
      LineTooLongError,
    )
    await expect(collect(ndjsonLines(chunks('ok\n', `${'z'.repeat(200)}\n`), 100))).rejects.toThrow(/line 2/)
  })
})

describe('backup lines', () => {
  it('round-trips a doc', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hi')
    const update = Y.encodeStateAsUpdate(doc)
    const decoded = decodeBackupLine(encodeBackupLine({ name: 'a/b', update }).trimEnd())
    expect(decoded).toEqual({ ok: true, doc: { name: 'a/b', update } })
  })

  it('says what is wrong with a bad line', () => {
    expect(decodeBackupLine('{').ok).toBe(false)
    expect(decodeBackupLine('{"name":1,"update":""}')).toEqual({ ok: false, error: 'name must be a string' })
    expect(decodeBackupLine('{"name":"x","update":"a b"}')).toEqual({
      ok: false,
      error: 'update must be base64',
    })
    expect(decodeBackupLine('{"name":"x","update":"/////w=="}')).toMatchObject({ ok: false })
  })

  it('refuses trailing bytes after the update and base64 that is not what export writes (bugs brief 3, 5)', () => {
    // "AAAA" is an empty update [0, 0] followed by a 0 byte.
    expect(decodeBackupLine('{"name":"x","update":"AAA="}')).toMatchObject({ ok: true })
    expect(decodeBackupLine('{"name":"x","update":"AAAA"}')).toEqual({
      ok: false,
      error: 'update is not a valid Yjs update: 1 unexpected trailing byte after the delete set',
    })
    expect(decodeBackupLine('{"name":"x","update":"AAB="}')).toEqual({
      ok: false,
      error: 'update must be base64 (its unused bits set)',
    })
  })

  it('stops at a line that is not UTF-8 instead of importing a mangled name (bugs brief 5)', async () => {
    const applied: string[] = []
    const good = (name: string) => encodeBackupLine({ name, update: textUpdate(name) })
    const bad = Buffer.concat([
      Buffer.from('{"name":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('","update":"AAA="}\n'),
    ])
    const stop = importBackup(chunks(good('a'), bad, good('c')), {
      maxLineBytes: 1000,
      apply: (doc) => void applied.push(doc.name),
    })
    await expect(stop).rejects.toMatchObject({ line: 2, imported: 1, reason: 'not valid UTF-8' })
    expect(applied).toEqual(['a'])
  })

  it('importBackup applies in order and stops at a bad line with the count', async () => {
    const applied: string[] = []
    const good = (name: string) => encodeBackupLine({ name, update: textUpdate(name) })
    const stop = importBackup(chunks(good('a'), good('b'), 'nope\n', good('c')), {
      maxLineBytes: 1000,
      apply: (doc) => void applied.push(doc.name),
    })
    await expect(stop).rejects.toBeInstanceOf(ImportStoppedError)
    await expect(stop).rejects.toMatchObject({ line: 3, imported: 2 })
    expect(applied).toEqual(['a', 'b'])
  })
})

describe('importBackup and empty updates', () => {
  it('counts a line whose update carries nothing as imported but applies (creates) nothing', async () => {
    const applied: string[] = []
    const empty = (name: string) => encodeBackupLine({ name, update: Y.encodeStateAsUpdate(new Y.Doc()) })
    const count = await importBackup(
      chunks(
        empty('e1'),
        encodeBackupLine({ name: 'full', update: textUpdate('x') }),
        '{"name":"e2","update":"AAA="}\n',
      ),
      { maxLineBytes: 1000, apply: (doc) => void applied.push(doc.name) },
    )
    expect(count).toBe(3)
    expect(applied).toEqual(['full'])
  })
})

/** A one-edit update (not empty, so importBackup applies it). */
function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('readAhead', () => {
  it('yields in input order with at most `window` reads in flight', async () => {
    let inFlight = 0
    let most = 0
    const read = async (n: number) => {
      inFlight += 1
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setImmediate(resolve, n))
      // Later items finish first: order must still be the input's.
      for (let i = 0; i < 10 - n; i++) await Promise.resolve()
      inFlight -= 1
      return n * 10
    }
    async function* numbers() {
      for (let n = 0; n < 10; n++) yield n
    }
    expect(await collect(readAhead(numbers(), read, 3))).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    expect(most).toBeLessThanOrEqual(3)
    expect(most).toBeGreaterThan(1)
  })
})

describe('export/import arguments', () => {
  it('needs exactly one target, and a token with --url', () => {
    expect(parseExportArgs([]).kind).toBe('usage-error')
    expect(parseExportArgs(['--url', 'http://x', '--data-dir', 'd']).kind).toBe('usage-error')
    expect(parseExportArgs(['--url', 'http://x'])).toMatchObject({
      kind: 'usage-error',
      message: /ADMIN_TOKEN/,
    })
    expect(parseExportArgs(['--url', 'http://x:1/'], { ADMIN_TOKEN: 't' })).toEqual({
      kind: 'run',
      args: {
        target: { kind: 'admin', url: 'http://x:1', adminToken: 't' },
        prefix: undefined,
        out: undefined,
      },
    })
    expect(parseExportArgs(['--url', 'ftp://x'], { ADMIN_TOKEN: 't' }).kind).toBe('usage-error')
    expect(parseExportArgs(['--data-dir', 'd', '--bogus']).kind).toBe('usage-error')
  })

  it('import takes --in or --from-y-leveldb, not both', () => {
    expect(parseImportArgs(['--data-dir', 'd'])).toMatchObject({
      kind: 'run',
      args: { source: { kind: 'ndjson' } },
    })
    expect(parseImportArgs(['--data-dir', 'd', '--from-y-leveldb', 'y'])).toMatchObject({
      kind: 'run',
      args: { source: { kind: 'y-leveldb', dir: 'y' } },
    })
    expect(parseImportArgs(['--data-dir', 'd', '--from-y-leveldb', 'y', '--in', 'f']).kind).toBe(
      'usage-error',
    )
    expect(parseImportArgs(['-h']).kind).toBe('help')
  })
})
