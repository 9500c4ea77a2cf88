// Summarises a V8 CPU profile (node --cpu-prof): the functions and the packages/files with the
// most self time, and the heaviest inclusive frames of our own code.
//
//   node bench/profile-summary.mjs <file.cpuprofile> [rows, default 25]
import { readFileSync } from 'node:fs';

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [rows]');
  process.exit(2);
}
const rows = Number(rowsArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the samples and their time deltas (microseconds).
const self = new Map();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  const own = /\/(?:dist\/)?src\/[^?]*/.exec(url)?.[0];
  if (own) return own.slice(1);
  if (url.startsWith('node:')) return url;
  return url || '(native)';
};
const bump = (map, key, v) => map.set(key, (map.get(key) ?? 0) + v);
const byFunction = new Map();
const byPlace = new Map();
const inclusive = new Map();
for (const [id, t] of self) {
  const cf = nodes.get(id).callFrame;
  bump(byFunction, `${cf.functionName || '(anonymous)'} ${where(cf)}:${cf.lineNumber + 1}`, t);
  bump(byPlace, where(cf), t);
  // Inclusive time of our own functions (each counted once per sample stack).
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const f = nodes.get(n).callFrame;
    if (!/\/(?:dist\/)?src\//.test(f.url) || f.url.includes('node_modules')) continue;
    const key = `${f.functionName || '(anonymous)'} ${where(f)}:${f.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    bump(inclusive, key, t);
  }
}
const show = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
show('self time by package / file', byPlace);
show('self time by function', byFunction);
show('inclusive time, minipay code', inclusive);
