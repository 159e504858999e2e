#!/usr/bin/env node
// The short table run.sh prints last: adapter, step status, conformance counts, copy
// bandwidth, and each benchmark record (GPU time, GB/s, share of the measured copy
// bandwidth). Reads what run.sh left in OUT; writes OUT/summary.txt and prints it.
//   node scripts/gpu-machine/summarize.mjs <OUT> [steps.tsv]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, stepsFile] = process.argv.slice(2);
if (!out) {
  console.error('usage: summarize.mjs <OUT> [steps.tsv]');
  process.exit(2);
}
const load = (name) => {
  const p = join(out, name);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    return { parseError: e.message };
  }
};
const lines = [];
const say = (s = '') => lines.push(s);
const f = (x, d = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : Number(x).toFixed(d);
/** GB/s: no decimals from 100 up, one below. */
const g = (x) => (x === null || x === undefined ? '-' : f(x, Math.abs(x) >= 100 ? 0 : 1));

function table(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r) =>
    r
      .map((c, i) =>
        i < 2 ? String(c).padEnd(i === r.length - 1 ? 0 : w[i]) : String(c).padStart(w[i]),
      )
      .join('  ');
  say(fmt(head));
  say(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) say(fmt(r));
}

say('==================== gpu-drp on the GPU machine: summary ====================');
const info = load('info.json');
const a = info?.backends?.webgpu?.adapter;
if (a) {
  say(
    `adapter   ${a.description || a.device} (vendor ${a.vendor}, architecture ${a.architecture}, ${a.isSoftware ? 'SOFTWARE' : 'hardware'}); timestamps ${info.backends.webgpu.timestamps ? 'yes' : 'no'}`,
  );
} else {
  say(`adapter   none (${info?.backends?.webgpu?.reason ?? 'info.json missing'})`);
}
if (process.env.GPU_MACHINE_CARD) say(`card      ${process.env.GPU_MACHINE_CARD}`);
if (process.env.GPU_DRP_GIT_REV) say(`git rev   ${process.env.GPU_DRP_GIT_REV} (packed)`);
say(`date      ${new Date().toISOString()}`);

if (stepsFile && existsSync(stepsFile)) {
  say();
  const rows = readFileSync(stepsFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  table(
    ['step', 'status'],
    rows.map((r) => [r[0], r.slice(1).join(' ')]),
  );
}

const conf = load('conformance.json');
if (conf && !conf.parseError) {
  say();
  const all = (conf.testResults ?? []).flatMap((t) => t.assertionResults ?? []);
  const gpu = all.filter((r) => /webgpu/i.test(r.fullName ?? r.title ?? ''));
  const count = (xs, s) => xs.filter((r) => r.status === s).length;
  say(
    `conformance  ${conf.numPassedTests} passed, ${conf.numFailedTests} failed, ${conf.numPendingTests + (conf.numTodoTests ?? 0)} skipped ` +
      `of ${conf.numTotalTests} in ${(conf.testResults ?? []).length} files; naming webgpu: ${count(gpu, 'passed')} passed, ${count(gpu, 'failed')} failed`,
  );
  for (const r of all.filter((x) => x.status === 'failed').slice(0, 10))
    say(`  FAILED ${r.fullName}`);
}

const bw = load('bandwidth.json');
let ceiling = null;
if (bw && !bw.parseError) {
  say();
  table(
    ['copy probe', 'size MiB', 'kernel GB/s (ts)', 'kernel GB/s (wall)', 'copyB2B GB/s', 'ok'],
    bw.results.map((r) => [
      'r+w bytes',
      (r.size_bytes / 1048576).toFixed(0),
      g(r.kernel_gpu_gb_per_s),
      g(r.kernel_wall_gb_per_s),
      g(r.b2b_wall_gb_per_s),
      r.verified ? 'yes' : 'NO',
    ]),
  );
  ceiling = bw.best_gb_per_s;
}

const rows = [];
for (const op of ['convolve', 'warp', 'stack']) {
  const recs = load(`${op}.json`);
  if (!Array.isArray(recs)) continue;
  for (const r of recs) {
    const p = r.params ?? {};
    const params = Object.entries(p)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    rows.push([
      op,
      params,
      `${r.width}x${r.height}`,
      f(r.median_ms),
      f(r.gpu_median_ms, 3),
      g(r.gpu_gb_per_s),
      ceiling && r.gpu_gb_per_s ? `${((100 * r.gpu_gb_per_s) / ceiling).toFixed(0)}%` : '-',
      r.verified === null ? '-' : r.verified ? 'yes' : 'NO',
    ]);
  }
}
if (rows.length) {
  say();
  table(['op', 'params', 'size', 'wall ms', 'gpu ms', 'gpu GB/s', 'of copy', 'verified'], rows);
  say('wall ms: host to host (uploads and downloads included); gpu ms: timestamp queries of the');
  say(
    "op's passes; gpu GB/s: the op's own byte count over gpu ms; of copy: that over the copy probe's best.",
  );
}
const e2e = load('e2e.json');
if (Array.isArray(e2e) && e2e.length) {
  say();
  const by = Object.fromEntries(e2e.map((r) => [r.backend, r]));
  const erows = e2e.map((r) => {
    const st = r.e2e?.ours?.stageMs ?? {};
    const total = Object.values(st).reduce((a, b) => a + b, 0);
    // Stages that run on the compute backend; 'read' is the wait for the next files.
    const dev = ['warp', 'weigh', 'warp+stack', 'stack', 'keep', 'detect', 'measure']
      .map((k) => st[k] ?? 0)
      .reduce((a, b) => a + b, 0);
    const n = r.params?.calexps ?? 0;
    return [
      'e2e',
      `${r.backend}${r.adapter ? ` (${r.adapter.description || r.adapter.device || ''})` : ''} threads=${r.threads}`,
      f(r.median_ms / 1000, 1),
      n ? f(r.median_ms / n, 0) : '-',
      total ? `${((100 * dev) / total).toFixed(0)}%` : '-',
      r.e2e?.ours?.deviceBusy ? `${(100 * r.e2e.ours.deviceBusy.share).toFixed(0)}%` : '-',
      Object.entries(st)
        .map(([k, v]) => `${k} ${Math.round(v)}`)
        .join(', '),
    ];
  });
  table(
    ['op', 'backend', 'wall s', 'ms per CCD', 'compute share', 'device busy', 'stage ms'],
    erows,
  );
  if (by.webgpu && by.cpu)
    say(
      `e2e: cpu / webgpu wall = ${f(by.cpu.median_ms / by.webgpu.median_ms, 2)}x (same data, same machine; aim >= 50x)`,
    );
  say('compute share: compute stages over all stage time (the rest is waiting for reads and');
  say("writing outputs). device busy: the compute passes' summed GPU time (timestamp queries)");
  say(
    "over the unit's wall time; the aim is I/O-bound with the device idle < 30%, i.e. busy > 70%.",
  );
}
say('==============================================================================');
const text = `${lines.join('\n')}\n`;
writeFileSync(join(out, 'summary.txt'), text);
process.stdout.write(text);
