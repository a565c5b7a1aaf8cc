/**
 * Notices that the process that started us is gone. `npm start` forwards SIGTERM/SIGINT to
 * its script, but an npm killed with SIGKILL (or an OOM kill, or a crashed supervisor) takes
 * no one with it: the server would keep the port and never drain. Once the parent dies the
 * kernel re-parents us (to init or a subreaper), so `process.ppid` changes: that is the cue.
 *
 * Only under npm (`npm_lifecycle_event` set by npm run-script), where the parent is a mere
 * launcher. A server started directly by a supervisor or a shell keeps running on its own.
 */

/** How often the parent pid is read (ms): one cheap syscall; drain starts within this. */
export const PARENT_POLL_MS = 1000

/**
 * Calls `onParentGone` once when the parent process exits, if we were started by npm.
 * Returns a function that stops watching. The timer never keeps the process alive.
 */
export function watchParent(env: NodeJS.ProcessEnv, onParentGone: () => void): () => void {
  if (env.npm_lifecycle_event === undefined) return () => undefined
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onParentGone()
  }, PARENT_POLL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
