/**
 * Runs an operator CLI from scripts/ (or the `yjs-cluster-server` bin, src/cli/main.ts) as a
 * real child process (`node --import tsx`), capturing its output and exit code.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

export interface CliRun {
  readonly process: ChildProcess
  /** Everything written so far (grows while it runs). */
  readonly output: { stdout: string; stderr: string }
  /** Exit code, or the signal name when killed. */
  readonly exited: Promise<number | string>
}

/** The bin's source entry; `startCli(BIN, ...)` runs `yjs-cluster-server` with its arguments. */
export const BIN = '../src/cli/main.ts'

export function startCli(script: string, args: readonly string[], env: Record<string, string> = {}): CliRun {
  const path = fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = { stdout: '', stderr: '' }
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk
  })
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { process: child, output, exited }
}

export interface CliResult {
  readonly code: number | string
  readonly stdout: string
  readonly stderr: string
}

export async function runCli(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const run = startCli(script, args, env)
  const code = await run.exited
  return { code, ...run.output }
}
