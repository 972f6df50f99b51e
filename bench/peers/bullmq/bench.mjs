// BullMQ on Redis, running the workload of `countinghouse bench queue` (crates/jobs/src/bench.rs):
// - throughput: 200,000 no-op jobs added by 2 producers with addBulk of 500 while one worker at
//   concurrency 400 drains them; jobs/s from the first add to the last completion (completed jobs
//   are removed, as ours are deleted);
// - latency: open loop at a constant 1,000 jobs/s, one add per job at its scheduled time, 3 s
//   warm-up then 20 s measured; latency from the scheduled add time to the handler starting.
//
// Usage: node bench.mjs [--redis redis://127.0.0.1:6379] [--scenario all|throughput|latency]
//                       [--runs 1] [--jobs 200000] [--rate 1000] [--warmup 3] [--duration 20]
// Keys live under a prefix of their own (`chbench-<pid>`), deleted at the end of each run;
// nothing else in the Redis is touched.

import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    scenario: { type: 'string', default: 'all' },
    runs: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '200000' },
    producers: { type: 'string', default: '2' },
    bulk: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '400' },
    rate: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '20' },
    'latency-concurrency': { type: 'string', default: '64' },
  },
});

const url = new URL(args.redis);
const connection = {
  host: url.hostname,
  port: Number(url.port || 6379),
  db: Number(url.pathname.slice(1) || 0),
  maxRetriesPerRequest: null,
};
const prefix = `chbench-${process.pid}`;
const QUEUE = 'bench';

// Deletes every key under the prefix (SCAN + UNLINK): the shared Redis is never flushed.
async function cleanup() {
  const client = new Redis(connection);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
  await client.quit();
}

async function throughput() {
  const jobs = Number(args.jobs);
  const producers = Number(args.producers);
  const bulk = Number(args.bulk);
  let done = 0;
  let allDone;
  const finished = new Promise((resolve) => (allDone = resolve));
  const worker = new Worker(QUEUE, async () => {}, {
    connection,
    prefix,
    concurrency: Number(args.concurrency),
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
  });
  worker.on('completed', () => {
    done += 1;
    if (done === jobs) allDone();
  });
  await worker.waitUntilReady();
  const queues = Array.from({ length: producers }, () => new Queue(QUEUE, { connection, prefix }));
  await Promise.all(queues.map((q) => q.waitUntilReady()));

  const started = performance.now();
  const perProducer = Math.ceil(jobs / producers);
  await Promise.all(
    queues.map(async (q, p) => {
      let left = Math.max(0, Math.min(perProducer, jobs - p * perProducer));
      while (left > 0) {
        const take = Math.min(left, bulk);
        await q.addBulk(Array.from({ length: take }, () => ({ name: 'noop', data: {} })));
        left -= take;
      }
    }),
  );
  const enqueueSeconds = (performance.now() - started) / 1000;
  await finished;
  const totalSeconds = (performance.now() - started) / 1000;
  await worker.close();
  await Promise.all(queues.map((q) => q.close()));
  return {
    jobs,
    enqueue_seconds: enqueueSeconds,
    total_seconds: totalSeconds,
    enqueued_per_second: jobs / enqueueSeconds,
    completed_per_second: jobs / totalSeconds,
  };
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function latency() {
  const rate = Number(args.rate);
  const interval = 1000 / rate; // ms
  const warmupJobs = Math.floor(Number(args.warmup) * rate);
  const total = warmupJobs + Math.floor(Number(args.duration) * rate);
  const samples = [];
  let seen = 0;
  let measureFrom = Infinity;
  let allDone;
  const finished = new Promise((resolve) => (allDone = resolve));
  const worker = new Worker(
    QUEUE,
    async (job) => {
      const now = performance.now();
      if (job.data.due >= measureFrom) samples.push(now - job.data.due);
      seen += 1;
      if (seen === total) allDone();
    },
    {
      connection,
      prefix,
      concurrency: Number(args['latency-concurrency']),
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    },
  );
  await worker.waitUntilReady();
  const queue = new Queue(QUEUE, { connection, prefix });
  await queue.waitUntilReady();
  // Let the worker block on its queue before the clock starts (as ours waits for LISTEN).
  await new Promise((r) => setTimeout(r, 500));

  const epoch = performance.now();
  measureFrom = epoch + warmupJobs * interval;
  const adds = [];
  let i = 0;
  // Open loop: every job due by now is added now, whatever happened to the earlier ones.
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < total && epoch + i * interval <= now) {
        adds.push(queue.add('probe', { due: epoch + i * interval }));
        i += 1;
      }
      if (i >= total) return resolve();
      setTimeout(tick, Math.max(0, epoch + i * interval - performance.now()));
    };
    tick();
  });
  const measuredSpan = (performance.now() - measureFrom) / 1000;
  await Promise.all(adds);
  await finished;
  await worker.close();
  await queue.close();
  samples.sort((a, b) => a - b);
  return {
    target_rate: rate,
    achieved_rate: samples.length / measuredSpan,
    jobs: samples.length,
    p50_ms: quantile(samples, 0.5),
    p90_ms: quantile(samples, 0.9),
    p99_ms: quantile(samples, 0.99),
    p999_ms: quantile(samples, 0.999),
    max_ms: samples[samples.length - 1],
  };
}

const runs = Number(args.runs);
try {
  for (let run = 1; run <= runs; run += 1) {
    if (args.scenario === 'all' || args.scenario === 'throughput') {
      await cleanup();
      const r = await throughput();
      console.log(
        `bullmq throughput run ${run}/${runs}: ${r.jobs} jobs, enqueued ${r.enqueued_per_second.toFixed(0)}/s, ` +
          `enqueued and completed ${r.completed_per_second.toFixed(0)}/s (${r.total_seconds.toFixed(2)} s)`,
      );
      console.log(JSON.stringify({ scenario: 'throughput', run, ...r }));
    }
    if (args.scenario === 'all' || args.scenario === 'latency') {
      await cleanup();
      const r = await latency();
      console.log(
        `bullmq latency run ${run}/${runs}: ${r.achieved_rate.toFixed(0)}/s of ${r.target_rate}/s, ${r.jobs} jobs, ` +
          `p50 ${r.p50_ms.toFixed(2)} ms, p99 ${r.p99_ms.toFixed(2)} ms, max ${r.max_ms.toFixed(2)} ms`,
      );
      console.log(JSON.stringify({ scenario: 'latency', run, ...r }));
    }
  }
} finally {
  await cleanup();
}
