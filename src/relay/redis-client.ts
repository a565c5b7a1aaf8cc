/**
 * The relay talks to one Redis or to a Redis Cluster through the same ioredis command API;
 * this module owns the few places where the two differ.
 */
import type { Cluster, Redis } from 'ioredis'

export type RedisClient = Redis | Cluster

/**
 * The run ids of the server(s) behind a client, sorted. One Redis: its run_id. A Cluster:
 * every master's (a restarted master comes back with a new one).
 */
export async function serverRunIds(client: RedisClient): Promise<string[]> {
  const servers: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  const infos = await Promise.all(servers.map((server) => server.info('server')))
  return infos.map((info) => /run_id:(\w+)/.exec(info)?.[1] ?? '').sort()
}

/**
 * Did a server we knew restart (lose its data)? Some run id we saw before is gone. A Cluster
 * that only gained masters (scaled out) did not; one whose master failed over to a replica
 * counts as restarted, which is conservative (every room resyncs, nothing is lost).
 */
export function someServerRestarted(before: readonly string[] | undefined, now: readonly string[]): boolean {
  if (before === undefined) return false
  return before.some((runId) => !now.includes(runId))
}
