/**
 * In-process micro-benchmarks on a shared machine: every contender is calibrated to a sample
 * of about `sampleMs`, then the contenders run interleaved (A, B, C, A, B, C, ...) for
 * `rounds` rounds, and each is reported by its median round, so a neighbour's burst of load
 * hits every contender alike instead of one of them. Samples are timed in CPU time of this
 * process (`process.cpuUsage`), not wall time: on 2 cores shared with other work, wall time
 * mostly measures the neighbours.
 */

export interface Contender {
  name: string;
  /** One operation; may return a promise (then each call is awaited before the next). */
  run(): unknown;
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

/** `global.gc` when node runs with --expose-gc: each sample then starts with an empty heap
 * instead of paying for the garbage the previous contender left. */
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** CPU milliseconds that `count` calls take. */
async function timeCalls(c: Contender, count: number, isAsync: boolean): Promise<number> {
  const start = process.cpuUsage();
  if (isAsync) {
    for (let i = 0; i < count; i++) if (await c.run()) sink++;
  } else {
    for (let i = 0; i < count; i++) if (c.run()) sink++;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Runs the contenders interleaved and returns their medians, in the order given. */
export async function interleaved(
  contenders: readonly Contender[],
  options: MicroOptions,
): Promise<MicroResult[]> {
  const plans = [];
  for (const c of contenders) {
    const isAsync = isThenable(c.run());
    // Warm up and calibrate: double the count until a batch takes a tenth of a sample.
    let count = 1;
    let ms = 0;
    while (ms < options.sampleMs / 10) {
      count *= 2;
      ms = await timeCalls(c, count, isAsync);
    }
    const perCall = ms / count;
    const planned = Math.max(1, Math.round(options.sampleMs / perCall));
    await timeCalls(c, planned, isAsync); // one untimed sample more, so the JIT has settled
    plans.push({ c, isAsync, count: planned });
  }
  const perRound = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const { c, isAsync, count } of plans) {
      collect();
      const ms = await timeCalls(c, count, isAsync);
      perRound.get(c.name)!.push((count / ms) * 1000);
    }
  }
  if (sink < 0) console.log(sink);
  return contenders.map((c) => {
    const list = perRound.get(c.name)!;
    return { name: c.name, opsPerSecond: median(list), rounds: list };
  });
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
