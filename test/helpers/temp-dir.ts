import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

/** A fresh directory under the OS temp dir, removed when the current test finishes. */
export async function tempDir(prefix = 'yws-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 }))
  return dir
}

/** Like tempDir, for beforeAll/afterAll scopes (no current test): the caller removes it. */
export async function tempDirKeep(prefix = 'yws-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 }) }
}
