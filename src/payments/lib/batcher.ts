/**
 * Gathers the items that arrive together into batches handled by one call: what every item
 * would pay for alone (a statement's round trip, planning, a savepoint) is paid once per batch.
 * A batch starts on the next turn of the event loop (`setImmediate`), so the requests read in
 * one turn share it; at most one batch runs at a time, and the items that arrive meanwhile make
 * up the next one. Items that share a key (`keysOf`) never share a batch: the later one waits for
 * the next, so that the handler sees them one after the other. Each caller's promise settles
 * with its own item's answer, when the batch's call has settled.
 */
export class Batcher<I, O> {
  private queue: Queued<I, O>[] = [];
  private running = false;

  /** `handle` answers a batch's items in their order. */
  constructor(
    private readonly handle: (items: I[]) => Promise<O[]>,
    private readonly keysOf: (item: I) => readonly string[],
    private readonly maxBatch = 64,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.run(this.nextBatch());
    } finally {
      this.running = false;
    }
  }

  /** The oldest items whose keys no earlier item of the batch holds; the others stay queued. */
  private nextBatch(): Queued<I, O>[] {
    const batch: Queued<I, O>[] = [];
    const rest: Queued<I, O>[] = [];
    const taken = new Set<string>();
    for (const queued of this.queue) {
      const keys = this.keysOf(queued.item);
      if (batch.length >= this.maxBatch || keys.some((k) => taken.has(k))) {
        rest.push(queued);
        continue;
      }
      for (const k of keys) taken.add(k);
      batch.push(queued);
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Queued<I, O>[]): Promise<void> {
    try {
      const answers = await this.handle(batch.map((q) => q.item));
      batch.forEach((q, i) => {
        q.resolve(answers[i] as O);
      });
    } catch (error) {
      for (const q of batch) q.reject(error);
    }
  }
}

interface Queued<I, O> {
  item: I;
  resolve(value: O): void;
  reject(reason: unknown): void;
}
