/**
 * Micro-benchmarks on a shared machine: every contender is calibrated to a sample of about
 * `sampleMs`, then the contenders run interleaved (A, B, C, A, B, C, ...) for `rounds`
 * rounds, and each is reported by its median round, so a neighbour's burst of load hits every
 * contender alike instead of one of them. Samples are timed in CPU time (`process.cpuUsage`),
 * not wall time: on 2 cores shared with other work, wall time mostly measures the neighbours.
 *
 * CPU time is per process and includes V8's background GC threads, so contenders that make
 * very different amounts of garbage are each run in a process of their own (`sampler` in
 * bench/support/sample-worker.ts): in one process, a lean contender's samples would pay for
 * the collection of a wasteful one's garbage.
 */
export interface Contender {
  name: string;
  /** One operation; may return a promise (then each call is awaited before the next). */
  run(): unknown;
}

/** A contender as the rounds see it: calibrate once, then time samples on demand. */
export interface Sampler {
  name: string;
  /** Warms up and fixes the number of calls per sample. */
  calibrate(sampleMs: number): Promise<void>;
  /** Runs one sample; operations per CPU second. */
  sample(): Promise<number>;
}

export interface MicroOptions {
  rounds: number;
  sampleMs: number;
}

export interface MicroResult {
  name: string;
  /** Median operations per CPU second over the rounds. */
  opsPerSecond: number;
  /** Every round's operations per second, in order. */
  rounds: number[];
}

let sink = 0;

/** CPU time each contender runs untimed after calibration. */
export const WARMUP_MS = 500;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** CPU milliseconds this process spends on `count` calls. */
async function timeCalls(run: () => unknown, count: number, isAsync: boolean): Promise<number> {
  const start = process.cpuUsage();
  if (isAsync) {
    for (let i = 0; i < count; i++) if (await run()) sink++;
  } else {
    for (let i = 0; i < count; i++) if (run()) sink++;
  }
  const used = process.cpuUsage(start);
  if (sink < 0) console.log(sink);
  return (used.user + used.system) / 1000;
}

/** A contender run in this process. */
export function inProcess(c: Contender): Sampler {
  let isAsync = false;
  let count = 1;
  return {
    name: c.name,
    async calibrate(sampleMs) {
      isAsync = isThenable(c.run());
      // Warm up: double the count until a batch takes a tenth of a sample.
      let n = 1;
      let ms = 0;
      while (ms < sampleMs / 10) {
        n *= 2;
        ms = await timeCalls(c.run, n, isAsync);
      }
      count = Math.max(1, Math.round((sampleMs * n) / Math.max(ms, 0.001)));
      // Untimed samples until the JIT has settled (a reader of many small functions takes
      // thousands of calls to be optimised; a cold round would pull its median down), then
      // the count again, at full speed.
      for (let spent = 0; spent < WARMUP_MS; spent += ms)
        ms = await timeCalls(c.run, count, isAsync);
      count = Math.max(1, Math.round((sampleMs * count) / Math.max(ms, 0.001)));
    },
    async sample() {
      const ms = await timeCalls(c.run, count, isAsync);
      return (count / Math.max(ms, 0.001)) * 1000;
    },
  };
}

/** Calibrates every sampler, runs the rounds interleaved, and returns medians in order. */
export async function interleaved(
  samplers: readonly Sampler[],
  options: MicroOptions,
): Promise<MicroResult[]> {
  for (const s of samplers) await s.calibrate(options.sampleMs);
  const perRound = samplers.map(() => [] as number[]);
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, s] of samplers.entries()) perRound[i]!.push(await s.sample());
  }
  return samplers.map((s, i) => ({
    name: s.name,
    opsPerSecond: median(perRound[i]!),
    rounds: perRound[i]!,
  }));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A markdown table in biome's format: columns padded to their widest cell. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `12345.6` → `12,346`. */
export function formatRate(opsPerSecond: number): string {
  return Math.round(opsPerSecond).toLocaleString('en-US');
}
