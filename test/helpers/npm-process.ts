/**
 * npm and packaged-bin child processes for the package tests: spawn with captured output,
 * wait for the server's "listening" log line, await exit. Killed when the test finishes.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { onTestFinished } from 'vitest'

export interface Spawned {
  readonly child: ChildProcess
  readonly output: { stdout: string; stderr: string }
  /**
   * Exit code (or signal name) once the process exited and its output pipes closed, which
   * also means every descendant that shared them (npm's script) has exited.
   */
  readonly exited: Promise<number | string>
  /** Resolves with the port from the server's `listening` log line; rejects if it exits first. */
  readonly listening: Promise<number>
}

export function spawnLogged(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; killAtTestEnd?: boolean; detached?: boolean },
): Spawned {
  const child = spawn(command, args, {
    cwd: options.cwd,
    // Its own process group, so a test can signal the whole group as a terminal or a
    // container runtime does.
    detached: options.detached ?? false,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = { stdout: '', stderr: '' }
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk
  })
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.stdout += `${line}\n`
      const match = /"port":(\d+)/.exec(line)
      if (match && line.includes('listening')) resolve(Number(match[1]))
    })
    void exited.then((code) => reject(new Error(`exited (${code}) before listening:\n${output.stderr}`)))
  })
  listening.catch(() => undefined) // callers that never ask for the port
  if (options.killAtTestEnd !== false) {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
  }
  return { child, output, exited, listening }
}

/** Runs to completion (also in beforeAll: it is awaited, so no teardown is needed). */
export async function runToEnd(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const run = spawnLogged(command, args, { ...options, killAtTestEnd: false })
  const code = await run.exited
  return { code, ...run.output }
}
