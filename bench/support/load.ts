/**
 * Load generation for the HTTP benchmarks: autocannon sends a fixed list of prepared bodies
 * (one per request, so every notify or order is unique), and the results become table rows.
 */
import autocannon from 'autocannon';

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

/** Sends every body once (POST), `connections` at a time, and measures. */
export async function sendAll(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  // autocannon ends an `amount` run on its one-second tick, so its own duration is rounded up
  // to whole seconds: time the run from the first request to the last response instead.
  const started = process.hrtime.bigint();
  let lastResponse = started;
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    connections: options.connections,
    amount: options.bodies.length,
    timeout: 30,
    headers: options.headers,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const index = next++;
          const body = options.bodies[index % options.bodies.length];
          const extra = options.headersFor?.(index);
          return { ...req, body, headers: extra ? { ...req.headers, ...extra } : req.headers };
        },
        onResponse: () => {
          lastResponse = process.hrtime.bigint();
        },
      },
    ],
  });
  const seconds = Number(lastResponse - started) / 1e9;
  return {
    requests: result.requests.total,
    seconds,
    perSecond: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export interface Row {
  name: string;
  result: LoadResult;
  peakRssMiB: number;
  /** The server process's CPU time per request (user + system, µs): steadier than req/s when the machine is shared. */
  cpuUsPerRequest: number;
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
