/**
 * y-leveldb ships its typings under dist/ but its package.json "exports" does not point at
 * them, so NodeNext resolution cannot find them. The part the migration test uses:
 */
declare module 'y-leveldb' {
  import type * as Y from 'yjs'

  export class LeveldbPersistence {
    constructor(location: string)
    storeUpdate(docName: string, update: Uint8Array): Promise<number>
    getYDoc(docName: string): Promise<Y.Doc>
    setMeta(docName: string, metaKey: string, value: unknown): Promise<void>
    destroy(): Promise<void>
  }
}
