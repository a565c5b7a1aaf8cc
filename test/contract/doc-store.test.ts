/**
 * The DocStore contract (src/testing/doc-store-contract.ts, exported as
 * `yjs-cluster-server/testing`), run against every backend we ship.
 */
import { describe, expect, it } from 'vitest'
import { LevelDocStore } from '../../src/storage/level-doc-store.js'
import { MemoryDatabase, MemoryDocStore } from '../../src/storage/memory-doc-store.js'
import { docStoreContract } from '../../src/testing/index.js'
import { tempDir } from '../helpers/temp-dir.js'

docStoreContract(
  'LevelDocStore',
  async () => {
    const dir = await tempDir('yws-store-')
    return { create: (options) => new LevelDocStore(dir, options) }
  },
  { describe, it, expect },
)

docStoreContract(
  'MemoryDocStore',
  () => {
    const database = new MemoryDatabase()
    return { create: (options) => new MemoryDocStore(database, options) }
  },
  { describe, it, expect },
)
