/**
 * Load generation for the HTTP benchmarks: autocannon, in a process of its own, sends a fixed
 * list of prepared bodies (one per request, so every notify or order is unique), and the
 * results become table rows.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadJob } from './load-process.js';

export interface LoadOptions {
  url: string;
  bodies: readonly string[];
  connections: number;
  headers?: Record<string, string>;
  /** A different header set per request (e.g. an Idempotency-Key), by request index. */
  headersFor?: (index: number) => Record<string, string>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/**
 * Sends every body once (POST), `connections` at a time, from a load generator in a process of
 * its own (load-process.ts), and measures; timed there from the first request to the last
 * response.
 */
export async function sendAll(options: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-load-'));
  try {
    const file = join(dir, 'job.json');
    const job: LoadJob = {
      url: options.url,
      bodies: [...options.bodies],
      connections: options.connections,
      headers: options.headers,
      perRequest: options.headersFor && options.bodies.map((_, i) => options.headersFor!(i)),
    };
    writeFileSync(file, JSON.stringify(job));
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_PROCESS, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`the load generator exited with ${code}`);
    return JSON.parse(out) as LoadResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LOAD_PROCESS = fileURLToPath(new URL('./load-process.ts', import.meta.url));

/** The 1-minute load average now (`uptime`), to print beside every figure. */
export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 10) / 10;
}

export interface Row {
  name: string;
  result: LoadResult;
  peakRssMiB: number;
  /** The server process's CPU time per request (user + system, µs): steadier than req/s when the machine is shared. */
  cpuUsPerRequest: number;
  /** The 1-minute load average before and after the measured run. */
  load?: [number, number];
}

/** A Markdown table, each row also as a ratio to the named reference rows. */
export function table(rows: readonly Row[], references: readonly string[]): string {
  const refs = references.map((name) => rows.find((r) => r.name === name));
  const head = [
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'server CPU µs/req',
    'peak RSS MiB',
    'non-2xx/errors',
    'load avg',
  ];
  for (const name of references) head.push(`× ${name}`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const r = row.result;
    const cells = [
      row.name,
      r.perSecond.toFixed(0),
      String(r.p50Ms),
      String(r.p99Ms),
      row.cpuUsPerRequest.toFixed(0),
      row.peakRssMiB.toFixed(0),
      `${r.non2xx}/${r.errors}`,
      row.load ? `${row.load[0]} → ${row.load[1]}` : 'n/a',
    ];
    for (const ref of refs) {
      cells.push(ref ? (r.perSecond / ref.result.perSecond).toFixed(2) : 'n/a');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** For each target, the round with the median throughput. */
export function medians(runs: ReadonlyMap<string, readonly Row[]>): Row[] {
  return [...runs.values()].map((list) => {
    const sorted = [...list].sort((a, b) => a.result.perSecond - b.result.perSecond);
    return sorted[Math.floor((sorted.length - 1) / 2)] as Row;
  });
}

/** The HTTP benchmarks' command line: [requests per target] [connections] [rounds]. */
export function loadArgs(defaultCount: number) {
  return {
    count: Number(process.argv[2] ?? defaultCount),
    connections: Number(process.argv[3] ?? 10),
    rounds: Number(process.argv[4] ?? 3),
    /** minipay's log level while measured (BENCH_LOG_LEVEL). */
    logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
}

/** Whether target `name` runs: BENCH_TARGETS (comma-separated) names it, else `byDefault`. */
export function targetWanted(byDefault: (name: string) => boolean): (name: string) => boolean {
  const chosen = process.env.BENCH_TARGETS?.split(',');
  return (name) => (chosen ? chosen.includes(name) : byDefault(name));
}

/**
 * Measures every target once a round, `rounds` times, interleaved so that a machine's slow
 * spell falls on all of them; the rows by target.
 */
export async function interleavedRounds<T extends { name: string }>(
  rounds: number,
  targets: readonly T[],
  measure: (target: T, round: number, index: number) => Promise<Row>,
): Promise<Map<string, Row[]>> {
  const runs = new Map<string, Row[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [i, target] of targets.entries()) {
      const row = await measure(target, round, i);
      runs.set(target.name, [...(runs.get(target.name) ?? []), row]);
    }
  }
  return runs;
}
