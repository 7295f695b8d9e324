/**
 * Coalesces concurrent calls into batches ("group commit"): at most `maxInFlight` batches run at
 * once; calls that arrive meanwhile wait and go out together in the next batch, up to `maxItems`
 * units. Under no load a call goes out at once (no timer, no added latency); under load batches
 * grow by themselves. Each caller gets its own result, or the error of its batch.
 */
export class Batcher<I, O> {
  private readonly queue: { item: I; size: number; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: { maxInFlight: number; maxItems: number; sizeOf?: (item: I) => number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, size: this.options.sizeOf?.(item) ?? 1, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length && this.inFlight < this.options.maxInFlight) {
      const batch = [this.queue.shift()!];
      let size = batch[0].size;
      while (this.queue.length && size + this.queue[0].size <= this.options.maxItems) {
        const next = this.queue.shift()!;
        size += next.size;
        batch.push(next);
      }
      this.inFlight++;
      this.run(batch.map((b) => b.item))
        .then(
          (results) => batch.forEach((b, i) => b.resolve(results[i])),
          (err) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
