// Ours and BullMQ interleaved (ours, BullMQ, ours, BullMQ, ...), one run of each per round, with
// the machine's load before each run; then the medians and the ratios.
//
// Usage: DATABASE_URL=... node compare.mjs <path to countinghouse> [rounds=3] [redis://127.0.0.1:6379]
// Ours runs `countinghouse bench queue --runs 1 --enqueue-commit both` (throughput, then pickup
// latency with durable and with asynchronous enqueue commits); BullMQ runs bench.mjs beside this.
// BASELINE=<an older countinghouse> adds its run (durable commits only) before ours in each round.

import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [bin, roundsArg = '3', redis = 'redis://127.0.0.1:6379'] = process.argv.slice(2);
if (!bin || !process.env.DATABASE_URL) {
  console.error('usage: DATABASE_URL=... node compare.mjs <countinghouse binary> [rounds] [redis url]');
  process.exit(2);
}
const rounds = Number(roundsArg);
const here = dirname(fileURLToPath(import.meta.url));
const common = ['--rate', '1000', '--warmup', '3', '--duration', '20'];

function run(label, cmd, args, env) {
  const load = execFileSync('uptime', { encoding: 'utf8' }).trim();
  console.log(`\n== ${label} — ${new Date().toISOString()} — ${load}`);
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  const out = `${r.stdout}${r.stderr}`;
  process.stdout.write(out);
  if (r.status !== 0) throw new Error(`${label} failed with ${r.status}`);
  return out;
}

const num = (out, re) => {
  const m = out.match(re);
  if (!m) throw new Error(`no match for ${re}`);
  return Number(m[1]);
};

const figures = { ours: [], bullmq: [], baseline: [] };
for (let round = 1; round <= rounds; round += 1) {
  if (process.env.BASELINE) {
    const o = run(`baseline, round ${round}/${rounds}`, process.env.BASELINE,
      ['bench', 'queue', '--runs', '1', ...common], { COUNTINGHOUSE_LOG__FILTER: 'error' });
    figures.baseline.push({
      throughput: num(o, /^throughput run .*enqueued and completed (\d+)\/s/m),
      enqueued: num(o, /^throughput run .*enqueued (\d+)\/s/m),
      durable_p50: num(o, /^latency run .* p50 ([\d.]+) ms/m),
      durable_p99: num(o, /^latency run .* p99 ([\d.]+) ms/m),
    });
  }
  const o = run(`ours, round ${round}/${rounds}`, bin,
    ['bench', 'queue', '--runs', '1', '--enqueue-commit', 'both', ...common],
    { COUNTINGHOUSE_LOG__FILTER: 'error' });
  figures.ours.push({
    throughput: num(o, /^throughput run .*enqueued and completed (\d+)\/s/m),
    enqueued: num(o, /^throughput run .*enqueued (\d+)\/s/m),
    durable_p50: num(o, /^latency run .*\(durable commit\).* p50 ([\d.]+) ms/m),
    durable_p99: num(o, /^latency run .*\(durable commit\).* p99 ([\d.]+) ms/m),
    async_p50: num(o, /^latency run .*\(async commit\).* p50 ([\d.]+) ms/m),
    async_p99: num(o, /^latency run .*\(async commit\).* p99 ([\d.]+) ms/m),
  });
  const b = run(`bullmq, round ${round}/${rounds}`, 'node',
    [join(here, 'bench.mjs'), '--redis', redis, '--runs', '1', ...common]);
  figures.bullmq.push({
    throughput: num(b, /^bullmq throughput run .*enqueued and completed (\d+)\/s/m),
    enqueued: num(b, /^bullmq throughput run .*enqueued (\d+)\/s/m),
    p50: num(b, /^bullmq latency run .* p50 ([\d.]+) ms/m),
    p99: num(b, /^bullmq latency run .* p99 ([\d.]+) ms/m),
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const med = (side, key) => median(figures[side].map((f) => f[key]));
const all = (side, key) => figures[side].map((f) => f[key]).join(', ');
const bq = { throughput: med('bullmq', 'throughput'), enqueued: med('bullmq', 'enqueued'),
  p50: med('bullmq', 'p50'), p99: med('bullmq', 'p99') };
console.log(`\nMedians of ${rounds} interleaved rounds (ratio = ours / BullMQ):\n`);
console.log('| figure | ours | BullMQ 6.7.6 | ratio | ours, each run | BullMQ, each run |');
console.log('|---|---:|---:|---:|---|---|');
const row = (name, oursKey, peerKey, digits) => {
  const o = med('ours', oursKey);
  const p = bq[peerKey];
  console.log(`| ${name} | ${o.toFixed(digits)} | ${p.toFixed(digits)} | ${(o / p).toFixed(2)} | ` +
    `${all('ours', oursKey)} | ${all('bullmq', peerKey)} |`);
};
row('enqueued (jobs/s)', 'enqueued', 'enqueued', 0);
row('enqueued and completed (jobs/s)', 'throughput', 'throughput', 0);
row('pickup p50, durable enqueue commit (ms)', 'durable_p50', 'p50', 2);
row('pickup p99, durable enqueue commit (ms)', 'durable_p99', 'p99', 2);
row('pickup p50, async enqueue commit (ms)', 'async_p50', 'p50', 2);
row('pickup p99, async enqueue commit (ms)', 'async_p99', 'p99', 2);
if (figures.baseline.length > 0) {
  console.log('\nBaseline (BASELINE, durable enqueue commits), same rounds:\n');
  console.log('| figure | baseline | ours | BullMQ 6.7.6 | baseline, each run |');
  console.log('|---|---:|---:|---:|---|');
  for (const [name, key, peerKey] of [['enqueued (jobs/s)', 'enqueued', 'enqueued'],
    ['enqueued and completed (jobs/s)', 'throughput', 'throughput'],
    ['pickup p50 (ms)', 'durable_p50', 'p50'], ['pickup p99 (ms)', 'durable_p99', 'p99']]) {
    console.log(`| ${name} | ${med('baseline', key)} | ${med('ours', key)} | ${bq[peerKey]} | ${all('baseline', key)} |`);
  }
}
