/**
 * A day's bill put in key order by a worker thread (bill-sort-worker.mjs): the rows are handed
 * over as they are read, staged in a private temporary SQLite database there, and read back
 * sorted a page at a time, whatever the store. The run's main thread meanwhile parses the bill
 * and reads the ledger: on a machine of two cores each gets one. The worker ends with `close`,
 * which every run reaches (finished, failed or abandoned), or with the first error either side.
 */
import { Worker } from 'node:worker_threads';

/** Plain JavaScript, so that it runs the same from src/ under tsx and from dist/. */
const WORKER_FILE = new URL('./bill-sort-worker.mjs', import.meta.url);

/** Batches handed over and not yet staged: enough to keep the worker busy, memory bounded. */
const IN_FLIGHT = 4;
/** The worker's SQLite page cache, in KiB: its sorts spill to files past it. */
const CACHE_KIB = 1000;

/** The worker's young generation: its garbage is pages and batches, short-lived. */
const YOUNG_MB = 4;

type Raw = unknown[];

export interface BillSorterOptions {
  /** The staged row's columns, in order (`a, b, …`). */
  columns: string;
  /** The sorted read of one input, its src as the one parameter. */
  query: string;
  /** Rows a page holds. */
  page: number;
}

interface SorterMessage {
  ack?: true;
  src?: number;
  page?: Raw[];
  error?: { message: string; code?: string };
}

/** The worker's failure as an Error of the main thread, its SQLite code kept. */
function sorterError(err: { message?: unknown; code?: unknown }): Error {
  const error = new Error(`the bill sorter failed: ${String(err?.message ?? err)}`);
  return typeof err?.code === 'string' ? Object.assign(error, { code: err.code }) : error;
}

let live = 0;
/** Bill sorters whose worker has not ended yet (tests: none is left behind). */
export function liveBillSorters(): number {
  return live;
}

export class BillSorter {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  /** Waiting for an ack (staging) or a page of a src. */
  private readonly acks: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private readonly pulls = new Map<
    number,
    { resolve: (page: Raw[]) => void; reject: (err: Error) => void }
  >();
  private inFlight = 0;

  constructor(private readonly options: BillSorterOptions) {
    this.worker = new Worker(WORKER_FILE, {
      workerData: { cacheKiB: CACHE_KIB, ...options },
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB },
    });
    live++;
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        live--;
        this.fail(new Error('the bill sorter stopped'));
        resolve();
      });
    });
    this.worker.on('error', (err) => this.fail(sorterError(err)));
    this.worker.on('message', (message: SorterMessage) => {
      if (message.error) {
        this.fail(sorterError(message.error));
      } else if (message.ack) {
        this.inFlight--;
        this.acks.shift()?.resolve();
      } else if (message.src !== undefined) {
        const pull = this.pulls.get(message.src);
        this.pulls.delete(message.src);
        pull?.resolve(message.page!);
      }
    });
  }

  /** Hands rows over; resolves once few enough are waiting to be staged. */
  async add(rows: Raw[]): Promise<void> {
    this.check();
    if (rows.length === 0) return;
    this.worker.postMessage({ rows });
    this.inFlight++;
    if (this.inFlight < IN_FLIGHT) return;
    await new Promise<void>((resolve, reject) => this.acks.push({ resolve, reject }));
  }

  /** No more rows: the worker sorts `srcs` while the caller goes on. */
  sort(srcs: number[]): void {
    this.check();
    this.worker.postMessage({ sort: srcs });
  }

  /** The rows of `src` in key order, a page at a time. */
  async *pages(src: number): AsyncGenerator<Raw[]> {
    const PAGE = this.options.page;
    for (;;) {
      const page = await this.pull(src);
      if (page.length > 0) yield page;
      if (page.length < PAGE) return;
    }
  }

  /** Ends the worker (its database goes with it); resolves once it has. */
  async close(): Promise<void> {
    this.failure ??= new Error('the bill sorter was closed');
    await this.worker.terminate();
    await this.exited;
  }

  private pull(src: number): Promise<Raw[]> {
    this.check();
    return new Promise((resolve, reject) => {
      this.pulls.set(src, { resolve, reject });
      this.worker.postMessage({ pull: src });
    });
  }

  private check() {
    if (this.failure) throw this.failure;
  }

  /** The first error wins; whoever waits gets it. */
  private fail(err: Error) {
    this.failure ??= err;
    for (const ack of this.acks.splice(0)) ack.reject(this.failure);
    for (const pull of this.pulls.values()) pull.reject(this.failure);
    this.pulls.clear();
  }
}
