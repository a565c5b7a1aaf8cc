/**
 * The package's library entry (`import … from 'yjs-cluster-server'`). Importing it starts
 * nothing and reads no environment. Guide: docs/library.md.
 */
export type { Config, LogLevel } from './config/config.js'
export type { DocumentOperations } from './document-operations.js'
export {
  AuthenticationError,
  BadLabelError,
  ClusterUnavailableError,
  ConfigError,
  CorruptStateError,
  DocumentTooLargeError,
  type ErrorCode,
  ErrorCodes,
  ListenError,
  NoSuchDocError,
  NoSuchVersionError,
  StoreAccessError,
  StoreLockedError,
  StoreOpenError,
  TooManyDocsError,
  YwsError,
} from './errors.js'
export type { CheckpointMeta } from './history/checkpoint-store.js'
export type {
  AuthenticateContext,
  AuthenticateResult,
  ChangeOrigin,
  Hooks,
  HookUser,
} from './hooks.js'
export type { DirectConnection } from './room/direct-connection.js'
export { type CollabServer, createServer, type ServerOptions } from './server.js'
export { BaseDocStore, type DocStoreOptions } from './storage/base-doc-store.js'
export type {
  CompactionOptions,
  CompactionResult,
  DocStats,
  DocStore,
  LiveStateSource,
  LoadedDoc,
  StoreObserver,
  StoreWriteGuard,
} from './storage/doc-store.js'
export { MemoryDatabase, MemoryDocStore } from './storage/memory-doc-store.js'
export type {
  ListOptions,
  LogWrite,
  ReadOptions,
  StoreBackend,
  StoredDoc,
  StoredLogEntry,
} from './storage/store-backend.js'
