// Group commit in the API: callers submit one item each; a batch starts with
// every item waiting at that moment, and at most `maxInFlight` batches run at
// once. Under load, items arriving while batches run share the next one, so
// many requests pay for one database transaction and one WAL flush; when idle,
// an item starts a batch of its own at once (no timer, no added latency).

/** What a batch says about one of its items: a value, or the error that item alone failed with. */
export type Outcome<O> = { value: O } | { error: unknown };

export interface BatcherOptions {
  /** Batches running at once (each on its own database connection). */
  maxInFlight: number;
  /** Items in one batch at most; more wait for the next. */
  maxBatch: number;
}

interface Waiter<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class Batcher<I, O> {
  private inFlight = 0;
  private waiting: Waiter<I, O>[] = [];

  /**
   * `run` gets the items of a batch and returns one outcome per item, in order. If it throws,
   * every item of that batch fails with the same error.
   */
  constructor(
    private readonly run: (items: I[]) => Promise<Outcome<O>[]>,
    private readonly options: BatcherOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.inFlight < this.options.maxInFlight) void this.startBatch();
    });
  }

  private async startBatch(): Promise<void> {
    const batch = this.waiting.splice(0, this.options.maxBatch);
    this.inFlight++;
    try {
      const outcomes = await this.run(batch.map((w) => w.item));
      if (outcomes.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${outcomes.length} outcomes`);
      outcomes.forEach((o, i) => {
        const w = batch[i]!;
        if ('value' in o) w.resolve(o.value);
        else w.reject(o.error);
      });
    } catch (err) {
      batch.forEach((w) => w.reject(err));
    } finally {
      this.inFlight--;
      if (this.waiting.length > 0 && this.inFlight < this.options.maxInFlight) void this.startBatch();
    }
  }
}
