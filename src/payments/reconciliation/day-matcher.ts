/**
 * A day's match on a thread of its own (day-match-thread.ts): the bill's rows are handed over
 * as they are read and staged there; then the thread sorts them and runs `matchDay`, asking this
 * thread for the ledger's pages, which the caller reads from the store meanwhile. On a machine of
 * two cores each thread gets one: this one parses the bill, then reads the ledger; the other
 * stages, sorts and matches. The thread ends with `close`, which every run reaches (finished,
 * failed or abandoned), or with the first error either side.
 */
import { Worker } from 'node:worker_threads';
import type { FromThread, ToThread } from './day-match-thread.js';
import { type LedgerInput, PAGE, type Parties, type StagedRow } from './day-rows.js';
import { type DayTotals, type Difference, MatchInputError, type Merchant } from './match.js';

/** Plain JavaScript, which starts the thread's code from src/ under tsx and from dist/ alike. */
const WORKER_FILE = new URL('./day-match-worker.mjs', import.meta.url);
/** Whether this runs as TypeScript (under tsx): the thread must then load tsx itself. */
const TYPESCRIPT = import.meta.url.endsWith('.ts');

/** Batches handed over and not yet staged: enough to keep the thread busy, memory bounded. */
const IN_FLIGHT = 4;
/** The thread's SQLite page cache, in KiB: its sort spills to a file past it. */
const CACHE_KIB = 1000;
/**
 * The thread's young generation: its garbage is pages, batches and entries, short-lived. With
 * 4 MB a fifth of its time went to scavenges at 1M rows; 16 MB was faster and smaller (BENCHMARKS.md).
 */
const YOUNG_MB = 16;

/** The next page of a ledger input: fewer rows than a page at its end. */
export type NextPage = () => Promise<unknown[][]>;

export interface DayMatch {
  found: Difference[];
  totals: DayTotals;
}

/** The thread's failure as an Error of this thread: a SQLite code kept, a `MatchInputError` one. */
function threadError(err: { message?: unknown; code?: unknown; name?: unknown }): Error {
  const message = String(err?.message ?? err);
  if (err?.name === 'MatchInputError') return new MatchInputError(message);
  const error = new Error(`the day's match failed: ${message}`);
  return typeof err?.code === 'string' ? Object.assign(error, { code: err.code }) : error;
}

let live = 0;
/** Day matchers whose thread has not ended yet (tests: none is left behind). */
export function liveDayMatchers(): number {
  return live;
}

export class DayMatcher {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  /** Waiting for an ack (staging) or for the match's end. */
  private readonly acks: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private ending: { resolve: (match: DayMatch) => void; reject: (err: Error) => void } | undefined;
  /** The running match's handler of the thread's other messages. */
  private onMatch: ((message: FromThread) => void) | undefined;
  private inFlight = 0;
  /** Parties already handed over. */
  private partiesSent = 0;

  constructor() {
    this.worker = new Worker(WORKER_FILE, {
      workerData: { cacheKiB: CACHE_KIB, typescript: TYPESCRIPT },
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB },
    });
    live++;
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        live--;
        this.fail(new Error("the day's match thread stopped"));
        resolve();
      });
    });
    this.worker.on('error', (err) => this.fail(threadError(err)));
    this.worker.on('message', (message: FromThread) => {
      if ('error' in message) {
        this.fail(threadError(message.error));
      } else if ('ack' in message) {
        this.inFlight--;
        this.acks.shift()?.resolve();
      } else {
        this.onMatch?.(message);
      }
    });
  }

  /** Hands rows over, their parties numbered by `parties`; resolves once few enough wait. */
  async add(rows: StagedRow[], parties: Parties): Promise<void> {
    this.check();
    if (rows.length === 0) return;
    const sent = this.partiesSent;
    this.partiesSent = parties.list.length;
    this.post(
      sent === parties.list.length ? { rows } : { rows, parties: parties.list.slice(sent) },
    );
    this.inFlight++;
    if (this.inFlight < IN_FLIGHT) return;
    await new Promise<void>((resolve, reject) => this.acks.push({ resolve, reject }));
  }

  /**
   * No more rows: matches them against the ledger, whose pages `ledger` reads when the thread
   * asks (each input's next page read ahead meanwhile). Resolves the differences and totals.
   */
  match(merchant: Merchant, ledger: Record<LedgerInput, NextPage>): Promise<DayMatch> {
    this.check();
    const found: Difference[] = [];
    const ahead = new Map<LedgerInput, Promise<unknown[][]>>();
    const answer = (input: LedgerInput) => {
      const page = ahead.get(input) ?? ledger[input]();
      // The thread asks for no page after a short one.
      const next = page.then((rows) => (rows.length < PAGE ? [] : ledger[input]()));
      next.catch(() => undefined); // a failure is told when that page is asked for
      ahead.set(input, next);
      page.then(
        (rows) => this.post({ ledger: input, page: rows }),
        (err: Error) => this.fail(err),
      );
    };
    return new Promise<DayMatch>((resolve, reject) => {
      this.ending = { resolve, reject };
      this.onMatch = (message) => {
        if ('pull' in message) answer(message.pull);
        else if ('differences' in message) found.push(...message.differences);
        else if ('done' in message) resolve({ found, totals: message.done });
      };
      this.post({ match: merchant });
    });
  }

  /** Ends the thread (its database goes with it); resolves once it has. */
  async close(): Promise<void> {
    this.failure ??= new Error("the day's match was closed");
    await this.worker.terminate();
    await this.exited;
  }

  private post(message: ToThread) {
    this.worker.postMessage(message);
  }

  private check() {
    if (this.failure) throw this.failure;
  }

  /** The first error wins; whoever waits gets it. */
  private fail(err: Error) {
    this.failure ??= err;
    for (const ack of this.acks.splice(0)) ack.reject(this.failure);
    this.ending?.reject(this.failure);
  }
}
