import { afterQuietTurn } from '../lib/loop-turns';

export interface BatcherOptions<I> {
  /** Batches run at once, at most. */
  maxInFlight: number;
  /** Units in one batch, at most (a single call larger than this goes out alone). */
  maxItems: number;
  /** The units of one call (1 when absent). */
  sizeOf?: (item: I) => number;
  /**
   * Start a second (third, …) concurrent batch only once this many units wait (default 1: at once). Small
   * calls then wait for the running batch and go out together — fewer, larger transactions, the cheapest
   * way to commit many small writes — while work worth a transaction of its own (a few batch requests)
   * overlaps up to `maxInFlight`. At most `maxItems`.
   */
  overlapAt?: number;
  /**
   * Start a batch only after the event loop has taken in everything that is ready to read (the start is
   * deferred with `setImmediate`, no timer). Needed where the work itself never yields to I/O —
   * better-sqlite3 runs a whole transaction synchronously inside promise callbacks, so without this
   * each request would commit alone before the next one is even parsed, and group commit would never
   * group. Under no load this adds one turn of the event loop, microseconds. While turns accept new
   * connections, more turns are taken first (`lib/loop-turns.ts`: libuv accepts one per turn).
   */
  gatherTurn?: boolean;
}

/**
 * Coalesces concurrent calls into batches ("group commit"): at most `maxInFlight` batches run at
 * once; calls that arrive meanwhile wait and go out together in the next batch, up to `maxItems`
 * units. Under no load a call goes out at once (no timer, no added latency); under load batches
 * grow by themselves. Each caller gets its own result, or the error of its batch.
 */
export class Batcher<I, O> {
  private readonly queue: { item: I; size: number; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private queuedSize = 0;
  private inFlight = 0;
  /** A deferred {@link pump} is scheduled (see {@link BatcherOptions.gatherTurn}). */
  private gathering = false;

  /** Slots of running batches (see {@link run}'s `slot`). */
  private readonly busySlots = new Set<number>();

  /**
   * `run` gets the batch and a slot: a number in [0, maxInFlight) that no other running batch holds, so
   * concurrent batches can write to different rows (e.g. counter shards) and never wait for each other.
   */
  constructor(
    private readonly run: (items: I[], slot: number) => Promise<O[]>,
    private readonly options: BatcherOptions<I>,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const size = this.options.sizeOf?.(item) ?? 1;
      this.queue.push({ item, size, resolve, reject });
      this.queuedSize += size;
      this.schedule();
    });
  }

  private schedule(): void {
    if (!this.options.gatherTurn) return this.pump();
    if (this.gathering) return;
    this.gathering = true;
    afterQuietTurn(() => {
      this.gathering = false;
      this.pump();
    });
  }

  private pump(): void {
    const { maxInFlight, maxItems } = this.options;
    const overlapAt = Math.min(this.options.overlapAt ?? 1, maxItems);
    while (this.queue.length && this.inFlight < maxInFlight) {
      if (this.inFlight > 0 && this.queuedSize < overlapAt) return;
      const batch = [this.queue.shift()!];
      let size = batch[0].size;
      while (this.queue.length && size + this.queue[0].size <= maxItems) {
        const next = this.queue.shift()!;
        size += next.size;
        batch.push(next);
      }
      this.queuedSize -= size;
      this.inFlight++;
      let slot = 0;
      while (this.busySlots.has(slot)) slot++;
      this.busySlots.add(slot);
      this.run(
        batch.map((b) => b.item),
        slot,
      )
        .then(
          (results) => batch.forEach((b, i) => b.resolve(results[i])),
          (err) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.busySlots.delete(slot);
          this.inFlight--;
          this.schedule();
        });
    }
  }
}
