/**
 * Every admin route of the server, in one list: what admin-router.ts serves, what the
 * `action` metric label can be, and what docs/operations.md ("Admin routes") must list (a
 * unit test compares them). Add a route family here, not in app.ts.
 */
import type { AdminRoute } from './admin-router.js'
import { type AdminActions, operatorRoutes } from './admin-routes.js'
import { type DocumentRouteDeps, documentRoutes } from './document-routes.js'
import { type HistoryActions, historyRoutes } from './history-routes.js'

/** What each family of routes needs from the app. */
export interface AdminRouteDeps {
  readonly operator: AdminActions
  readonly documents: DocumentRouteDeps
  readonly history: HistoryActions
}

export function adminRouteTable(deps: AdminRouteDeps): AdminRoute[] {
  const exists = (docName: string) => deps.documents.documents.exists(docName)
  return [
    ...operatorRoutes(deps.operator),
    ...documentRoutes(deps.documents),
    ...historyRoutes(deps.history, exists),
  ]
}
