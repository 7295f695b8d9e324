/** Exact percentiles (nearest rank) of a list of per-response times in ms. */
export interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function latency(values: ArrayLike<number>): Latency {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const at = (q: number) => (n ? sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] : NaN);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(n ? sorted[n - 1] : NaN), mean: r(sum / n) };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Counts per whole second of a run started at `started` (performance.now()), `seconds` long. */
export class PerSecond {
  readonly buckets: number[];
  constructor(
    private readonly started: number,
    seconds: number,
  ) {
    this.buckets = new Array<number>(Math.max(1, Math.floor(seconds))).fill(0);
  }

  add(n: number, at = performance.now()): void {
    const second = Math.floor((at - this.started) / 1000);
    if (second < this.buckets.length) this.buckets[second] += n;
  }

  get median(): number {
    return Math.round(median(this.buckets));
  }
}
