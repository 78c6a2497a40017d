#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time and the most
// inclusive time (a function counted once per sample however deep it recurses), as % of samples.
// Usage: node bench/delivery/profile-summary.mjs <file.cpuprofile> [--top N] [--match REGEXP] [--last SECONDS]
//   --match keeps inclusive rows whose label matches; --last keeps only the samples of the profile's last
//   SECONDS (the load phase, without start-up), ending at the last busy second.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, match: { type: 'string' }, last: { type: 'string' } },
});
const [file] = positionals;
if (!file) {
  process.stderr.write('usage: profile-summary.mjs <file.cpuprofile> [--top N] [--match REGEXP] [--last SECONDS]\n');
  process.exit(2);
}
const top = Number(opts.top);
const filter = opts.match;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? f.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '~/').replace(/.*\/packages\//, '') : '';
  return `${f.functionName || '(anonymous)'} ${where}${where ? `:${f.lineNumber + 1}` : ''}`;
};

// Sample times (µs since the profile started), to keep a window of them.
const times = [];
let t = 0;
for (const d of profile.timeDeltas) times.push((t += d));
let from = 0;
if (opts.last) {
  let lastBusy = 0;
  profile.samples.forEach((id, i) => {
    if (byId.get(id).callFrame.functionName !== '(idle)') lastBusy = times[i];
  });
  from = lastBusy - Number(opts.last) * 1e6;
}

const selfCount = new Map();
const inclusive = new Map();
let total = 0;
let idle = 0;
for (const [i, id] of profile.samples.entries()) {
  if (times[i] < from) continue;
  const n = byId.get(id);
  total++;
  const l = label(n);
  if (n.callFrame.functionName === '(idle)') idle++;
  selfCount.set(l, (selfCount.get(l) ?? 0) + 1);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cl = label(byId.get(cur));
    if (seen.has(cl)) continue;
    seen.add(cl);
    inclusive.set(cl, (inclusive.get(cl) ?? 0) + 1);
  }
}
const busy = total - idle;
const pct = (x) => ((100 * x) / busy).toFixed(1).padStart(5);
const spanMs = (times.at(-1) - Math.max(from, 0)) / 1000;
process.stdout.write(`${total} samples over ${spanMs.toFixed(0)} ms, ${idle} idle; percentages of the ${busy} busy samples\n\n-- self --\n`);
for (const [l, c] of [...selfCount].filter(([l]) => !l.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${pct(c)}%  ${l}\n`);
}
process.stdout.write('\n-- inclusive --\n');
const re = filter ? new RegExp(filter) : null;
for (const [l, c] of [...inclusive].filter(([l]) => !l.startsWith('(idle)') && !l.startsWith('(root)') && (!re || re.test(l))).sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${pct(c)}%  ${l}\n`);
}
