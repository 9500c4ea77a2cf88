/**
 * Gathers the items that arrive together into batches handled by one call: what every item
 * would pay for alone (a statement's round trip, planning, a savepoint) is paid once per batch.
 * A batch starts on the next turn of the event loop (`setImmediate`), so the requests read in
 * one turn share it; at most `parallel` batches run at a time (one by default), and the items
 * that arrive meanwhile make up the next ones. Items that share a key (`keysOf`) never share a
 * batch, nor run in two batches at once: the later one waits until the earlier one's batch has
 * settled, so that the handler sees them one after the other. Each caller's promise settles with
 * its own item's answer, when the batch's call has settled.
 */
export class Batcher<I, O> {
  private queue: Queued<I, O>[] = [];
  private lanes = 0;
  private scheduled = false;
  /** The keys of the items in the batches running now. */
  private readonly busy = new Set<string>();

  /** `handle` answers a batch's items in their order. */
  constructor(
    private readonly handle: (items: I[]) => Promise<O[]>,
    private readonly keysOf: (item: I) => readonly string[],
    private readonly maxBatch = 64,
    private readonly parallel = 1,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** A new lane on the next turn, when fewer than `parallel` run (the running ones loop). */
  private schedule(): void {
    if (this.scheduled || this.lanes >= this.parallel) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.lane();
    });
  }

  /**
   * Runs batches while there are items it may take. It stops when every queued item waits for
   * a key another lane holds: that lane takes them when its batch has settled.
   */
  private async lane(): Promise<void> {
    this.lanes++;
    try {
      for (let batch = this.nextBatch(); batch.length > 0; batch = this.nextBatch()) {
        const keys = batch.flatMap((q) => this.keysOf(q.item));
        for (const k of keys) this.busy.add(k);
        try {
          await this.run(batch);
        } finally {
          for (const k of keys) this.busy.delete(k);
        }
      }
    } finally {
      this.lanes--;
    }
  }

  /** The oldest items whose keys no earlier item and no running batch holds; the rest wait. */
  private nextBatch(): Queued<I, O>[] {
    const batch: Queued<I, O>[] = [];
    const rest: Queued<I, O>[] = [];
    const taken = new Set<string>();
    for (const queued of this.queue) {
      const keys = this.keysOf(queued.item);
      if (batch.length >= this.maxBatch || keys.some((k) => taken.has(k) || this.busy.has(k))) {
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
