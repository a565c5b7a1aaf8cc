/**
 * The package's library entry (`import … from 'yjs-cluster-server'`). Importing it starts
 * nothing and reads no environment. The library API lands with issue 12.
 */
export {}
