import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { allowedMethods, matchRoute, routeKey } from '../../src/http/admin-router.js'
import { type AdminRouteDeps, adminRouteTable } from '../../src/http/admin-table.js'

// The table is only inspected (method, pattern), never run: no part of the app is needed.
const table = adminRouteTable(new Proxy({}, { get: () => ({}) }) as AdminRouteDeps)

describe('admin route table', () => {
  it('docs/operations.md lists exactly the routes the server serves', async () => {
    const doc = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8')
    const section = doc.slice(doc.indexOf('## Admin routes'))
    const documented = [...section.matchAll(/^\| `((?:GET|POST|DELETE) \/admin\/[^`]*)`\s*\|/gm)].map(
      (m) => m[1],
    )
    expect(documented.length).toBeGreaterThan(6)
    expect(documented.sort()).toEqual(table.map(routeKey).sort())
  })

  it('has no two routes with the same method and pattern', () => {
    const keys = table.map(routeKey)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('matches literal paths, refuses unknown ones and never normalises dot segments', () => {
    const match = (method: string, path: string) => {
      const found = matchRoute(table, method, path)
      return found && 'match' in found ? routeKey(found.match.route) : found
    }
    expect(match('GET', '/admin/docs')).toBe('GET /admin/docs')
    expect(match('POST', '/admin/docs')).toBeUndefined()
    expect(match('GET', '/admin/docs/../drain')).toBeUndefined()
    expect(match('POST', '/admin/drain/')).toBeUndefined()
  })

  it('names the methods a known path serves (405 Allow), none for an unknown path', () => {
    expect(allowedMethods(table, '/admin/docs')).toEqual(['GET'])
    expect(allowedMethods(table, '/admin/flush')).toEqual(['POST'])
    expect(allowedMethods(table, '/admin/docs/a')).toEqual(['GET', 'DELETE'])
    expect(allowedMethods(table, '/admin/docs/a/versions')).toEqual(['GET', 'POST'])
    expect(allowedMethods(table, '/admin/docs/a/updates')).toEqual(['POST'])
    expect(allowedMethods(table, '/admin/nope')).toEqual([])
    expect(allowedMethods(table, '/admin/docs/a/b/c/d')).toEqual([])
  })
})
