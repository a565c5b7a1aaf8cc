/**
 * `node dist/main.js`: the same as `yjs-cluster-server serve`, kept so existing scripts,
 * process managers and docs that start the compiled entry keep working. All of it lives in
 * src/cli/serve-command.ts.
 */
import { runAsProcess } from './cli/process-runner.js'

await runAsProcess(['serve', ...process.argv.slice(2)])
