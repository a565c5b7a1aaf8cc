// npm's `prepare` hook (runs on `npm ci`/`npm install` in a checkout and on `npm pack`):
// compile once here so `npm start` never builds. A checkout installed with --omit=dev has
// no TypeScript: say so and leave dist/ as it is, instead of failing the whole install.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let tsc
try {
  tsc = require.resolve('typescript/bin/tsc')
} catch {
  process.stderr.write(
    'prepare: TypeScript is not installed (dev dependencies omitted), not building dist/.\n' +
      'Install the packed package instead (npm pack), or run npm ci with dev dependencies.\n',
  )
  process.exit(0)
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
process.exit(result.status ?? 1)
