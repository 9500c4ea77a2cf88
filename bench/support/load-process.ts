/**
 * The load generator's own process: autocannon sends the requests a parent wrote to a JSON
 * file (`node --import tsx bench/support/load-process.ts <file>`) and prints the result as
 * JSON. Out of the bench process so that the generator does not share an event loop (and its
 * garbage collection) with the script that seeds, watches and verifies.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { LoadResult } from './load.js';

export interface LoadJob {
  url: string;
  bodies: string[];
  connections: number;
  headers?: Record<string, string>;
  /** Extra headers per request, by index. */
  perRequest?: Record<string, string>[];
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadJob;
let next = 0;
// autocannon ends an `amount` run on its one-second tick, so its own duration is rounded up to
// whole seconds: time the run from the first request to the last response instead.
const started = process.hrtime.bigint();
let lastResponse = started;
const result = await autocannon({
  url: job.url,
  method: 'POST',
  connections: job.connections,
  amount: job.bodies.length,
  timeout: 30,
  headers: job.headers,
  requests: [
    {
      method: 'POST',
      setupRequest: (req) => {
        const index = next++;
        const body = job.bodies[index % job.bodies.length];
        const extra = job.perRequest?.[index];
        return { ...req, body, headers: extra ? { ...req.headers, ...extra } : req.headers };
      },
      onResponse: () => {
        lastResponse = process.hrtime.bigint();
      },
    },
  ],
});
const seconds = Number(lastResponse - started) / 1e9;
const answer: LoadResult = {
  requests: result.requests.total,
  seconds,
  perSecond: result.requests.total / seconds,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
};
process.stdout.write(JSON.stringify(answer));
