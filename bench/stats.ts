/** Latency percentiles shared by the benchmarks (nearest-rank on the sorted samples). */
export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

export function summarize(samples: readonly number[], digits = 3): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    p50Ms: round(at(0.5) ?? Number.NaN, digits),
    p99Ms: round(at(0.99) ?? Number.NaN, digits),
    samples: sorted.length,
  };
}

export function round(value: number, digits = 3): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
