#!/usr/bin/env node
// Print the node_modules package folders (relative to the repo root, one a line) that the
// named root packages need at run time: their dependencies, optionalDependencies and
// installed peerDependencies, transitively, resolved the way Node does (nested
// node_modules first, then each parent's). Used by pack.sh.
//   node scripts/gpu-machine/closure.mjs <repo root> <package>...
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [root, ...roots] = process.argv.slice(2);
if (!root || roots.length === 0) {
  console.error('usage: closure.mjs <repo root> <package>...');
  process.exit(2);
}

/** The folder `name` resolves to from package folder `from` (Node's lookup), or null. */
function resolvePkg(from, name) {
  let dir = from;
  for (;;) {
    const cand = join(dir, 'node_modules', name);
    if (existsSync(join(cand, 'package.json'))) return cand;
    if (dir === root || dirname(dir) === dir) return null;
    // climb out of ".../node_modules/<pkg>" (or "@scope/<pkg>") to the folder holding it
    let up = dirname(dir);
    if (up.endsWith('/node_modules')) up = dirname(up);
    else if (dirname(up).endsWith('/node_modules')) up = dirname(dirname(up));
    dir = up;
  }
}

const seen = new Set();
const missing = [];
const queue = roots.map((n) => [root, n, true]);
while (queue.length) {
  const [from, name, required] = queue.shift();
  const dir = resolvePkg(from, name);
  if (!dir) {
    if (required) missing.push(`${name} (from ${relative(root, from) || '.'})`);
    continue;
  }
  if (seen.has(dir)) continue;
  seen.add(dir);
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const d of Object.keys(pj.dependencies ?? {})) queue.push([dir, d, true]);
  // optional and peer dependencies travel when they are installed here
  for (const d of Object.keys(pj.optionalDependencies ?? {})) queue.push([dir, d, false]);
  for (const d of Object.keys(pj.peerDependencies ?? {})) queue.push([dir, d, false]);
}
if (missing.length) {
  console.error(`closure.mjs: not installed: ${missing.join(', ')}`);
  process.exit(1);
}
for (const d of [...seen].sort()) console.log(relative(root, d));
