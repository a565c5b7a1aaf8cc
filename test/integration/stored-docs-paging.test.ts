/**
 * GET /admin/stored-docs pages through a real store: `limit` docs per answer, `next` as the
 * cursor for `after`, null on the last page; bad paging parameters are a 400.
 */
import { describe, expect, it } from 'vitest'
import { buildStore } from '../helpers/doc-store-fixtures.js'
import { httpRequest } from '../helpers/http.js'
import { startServer } from '../helpers/server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TEST_ADMIN_TOKEN } from '../helpers/tokens.js'

const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

describe('GET /admin/stored-docs paging', () => {
  it('walks every doc once, in name order, page by page', async () => {
    const dataDir = await tempDir('yws-paging-')
    const names = await buildStore(dataDir, {
      docs: 0,
      updatesPerDoc: 2,
      names: ['a', 'a/1', 'b', 'c 😀', 'd', 'e', 'f'],
    })
    const server = await startServer({ dataDir, adminToken: TEST_ADMIN_TOKEN })

    const seen: string[] = []
    const pages: number[] = []
    let after: string | null = null
    for (let page = 0; page < 10; page++) {
      const query = new URLSearchParams({ limit: '3', ...(after !== null ? { after } : {}) })
      const response = await httpRequest(server.port, `/admin/stored-docs?${query}`, { headers: ADMIN })
      expect(response.status).toBe(200)
      const body = response.json() as { docs: { docName: string; logEntries: number }[]; next: string | null }
      pages.push(body.docs.length)
      seen.push(...body.docs.map((doc) => doc.docName))
      expect(body.docs.every((doc) => doc.logEntries === 2)).toBe(true)
      after = body.next
      if (after === null) break
      expect(after).toBe(seen.at(-1))
    }
    expect(seen).toEqual([...names].sort())
    // 7 docs, 3 a page: the last page is short and says so; no empty page is ever needed.
    expect(pages).toEqual([3, 3, 1])

    const exact = await httpRequest(server.port, '/admin/stored-docs?limit=7', { headers: ADMIN })
    expect(exact.json().next).toBeNull()
    const withPrefix = await httpRequest(server.port, '/admin/stored-docs?prefix=a&limit=1', {
      headers: ADMIN,
    })
    expect(withPrefix.json()).toMatchObject({ docs: [{ docName: 'a' }], next: 'a' })
    const rest = await httpRequest(server.port, '/admin/stored-docs?prefix=a&after=a', { headers: ADMIN })
    expect(rest.json()).toMatchObject({ docs: [{ docName: 'a/1' }], next: null })
  })

  it.each(['limit=0', 'limit=10001', 'limit=ten', 'limit=-1', 'after=%01'])(
    'refuses ?%s with 400',
    async (query) => {
      const server = await startServer({ adminToken: TEST_ADMIN_TOKEN })
      const response = await httpRequest(server.port, `/admin/stored-docs?${query}`, { headers: ADMIN })
      expect(response.status).toBe(400)
      expect(response.json().error).toMatch(/limit|after/)
    },
  )
})
