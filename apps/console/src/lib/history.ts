/** The lag history the admin API samples (`GET /subscriptions/{id}/lag-history`). */

export interface LagSample {
  /** Unix milliseconds. */
  at: number;
  lag: number | null;
  end_offset_sum: number;
  committed_offset_sum: number | null;
}

/** Per-second rates between consecutive samples: records in (log end) and records read (commits). */
export function ratesOf(samples: LagSample[]): {
  inRate: (number | null)[];
  outRate: (number | null)[];
} {
  const inRate: (number | null)[] = [];
  const outRate: (number | null)[] = [];
  samples.forEach((s, i) => {
    const prev = samples[i - 1];
    const dt = prev ? (s.at - prev.at) / 1000 : 0;
    if (!prev || dt <= 0) {
      inRate.push(null);
      outRate.push(null);
      return;
    }
    inRate.push(Math.max(0, (s.end_offset_sum - prev.end_offset_sum) / dt));
    outRate.push(
      s.committed_offset_sum === null || prev.committed_offset_sum === null
        ? null
        : Math.max(0, (s.committed_offset_sum - prev.committed_offset_sum) / dt),
    );
  });
  return { inRate, outRate };
}

/** The rates between the last two samples: what the overview shows; null before two samples. */
export function latestRates(samples: LagSample[]): {
  inRate: number | null;
  outRate: number | null;
} {
  if (samples.length < 2) return { inRate: null, outRate: null };
  const { inRate, outRate } = ratesOf(samples.slice(-2));
  return { inRate: inRate[1], outRate: outRate[1] };
}
