// Builds the JavaScript claims linter into a WebAssembly component:
//
//   node build.mjs <out.wasm>
//
// Run by guest-artifacts/build.rs; offline once `npm install` has installed node_modules
// (./bootstrap does). ComponentizeJS embeds the SpiderMonkey-based engine
// it ships; every WASI feature of that engine is disabled, so the component
// imports nothing at all. The build takes seconds, so it is skipped when
// the inputs (source, WIT, lockfile, this script) hash to the stamp written
// beside the output by the last build.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error('usage: node build.mjs <out.wasm>');
  process.exit(2);
}

const sourcePath = join(here, 'src', 'linter.js');
const witPath = resolve(here, '..', '..', 'wit', 'lint@0.1');
const inputs = [sourcePath, join(witPath, 'lint.wit'), join(here, 'package-lock.json'), fileURLToPath(import.meta.url)];

const hash = createHash('sha256');
for (const file of inputs) {
  hash.update(file).update('\0').update(readFileSync(file)).update('\0');
}
const stamp = hash.digest('hex');
const stampPath = `${out}.stamp`;
if (existsSync(out) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) {
  process.exit(0);
}

if (!existsSync(join(here, 'node_modules', '@bytecodealliance', 'componentize-js'))) {
  console.error(`ComponentizeJS is not installed in ${here}: run ./bootstrap, or \`npm ci\` in that directory`);
  process.exit(1);
}
const { componentize } = await import('@bytecodealliance/componentize-js');

const started = Date.now();
const { component } = await componentize({
  sourcePath,
  witPath,
  worldName: 'tollgate:lint/claims-linter@0.1.0',
  // No console, Math.random, Date.now or fetch: nothing to import.
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
const tmp = `${out}.tmp`;
writeFileSync(tmp, component);
renameSync(tmp, out);
writeFileSync(stampPath, stamp);
console.error(`built ${out} (${component.length} bytes) in ${Date.now() - started} ms`);
