/**
 * Worker threads run at a lower CPU priority than the event loop. Their work (applying a big
 * push to the big-doc worker's Y.Doc, compactions, merges, first-sync cuts) is big and can
 * wait a little; the event loop's is every other document's latency. When the server's
 * threads share a core (a 1-2 vCPU host, or a server pinned to one CPU as the bench does) the
 * kernel otherwise shares it evenly, so a 50 MB push's worker CPU (6-18 ms per 1 MiB frame to
 * apply, on this VM) delays the small docs' messages as much as main-thread work would. With a
 * nice increment the scheduler hands the core to the event loop whenever it has work; with a
 * free core it changes nothing.
 *
 * Linux only: there the nice value is per thread, and `os.setPriority` with no pid (0) sets
 * the calling thread's. Elsewhere it would set the whole process's (macOS) or its priority
 * class (Windows), so nothing is done.
 */
import { getPriority, setPriority } from 'node:os'

/** Added to the nice value of every worker thread (0 = the event loop's priority, 19 = lowest). */
export const WORKER_NICE_INCREMENT = 10

/** Whether the nice value is per thread here (so a worker can lower its own alone). */
export const PER_THREAD_NICE = process.platform === 'linux'

/**
 * Lowers the calling worker thread's CPU priority by WORKER_NICE_INCREMENT (Linux; a no-op
 * elsewhere). Call it at the top of a worker entry, never on the main thread.
 */
export function lowerThisThreadPriority(): void {
  if (!PER_THREAD_NICE) return
  try {
    setPriority(Math.min(19, getPriority() + WORKER_NICE_INCREMENT))
  } catch {
    // Raising a nice value needs no privilege; a sandbox that forbids it (seccomp) leaves the
    // thread at the event loop's priority, which is how it ran before: nothing to report.
  }
}
