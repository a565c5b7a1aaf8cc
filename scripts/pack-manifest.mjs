// npm's `prepack` / `postpack` hooks: the packed package.json must not carry `prepare`.
// `prepare` builds dist/ in a checkout (scripts/prepare.mjs), but in an installed tarball it
// would point at a scripts/ directory that is not shipped, and npm ≥ 11 lists every package
// with an install-time script on install ("install scripts not yet covered by allowScripts").
//
//   prepack: build dist/ (npm does not run `prepare` once it is gone from package.json),
//            keep package.json as it is in .package.json.packing, write it without `prepare`
//   postpack: put the kept package.json back, byte for byte
//
// A pack that died between the two leaves .package.json.packing; the next run of either
// step puts it back first, so the checkout never keeps the stripped manifest.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

const MANIFEST = 'package.json'
const KEPT = '.package.json.packing'

function restore() {
  if (existsSync(KEPT)) renameSync(KEPT, MANIFEST)
}

const step = process.argv[2]
restore()
if (step === 'prepack') {
  const built = spawnSync(process.execPath, ['scripts/prepare.mjs'], { stdio: 'inherit' })
  if (built.status !== 0) process.exit(built.status ?? 1)
  const original = readFileSync(MANIFEST, 'utf8')
  const manifest = JSON.parse(original)
  // prepack/postpack go too: they only mean something in a checkout (npm ran postpack
  // from the manifest it read before prepack).
  for (const hook of ['prepare', 'prepack', 'postpack']) delete manifest.scripts[hook]
  writeFileSync(KEPT, original)
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`)
} else if (step !== 'postpack') {
  process.stderr.write('usage: node scripts/pack-manifest.mjs prepack|postpack\n')
  process.exit(2)
}
