/** How often expired nonces are swept out, at most. */
const SWEEP_EVERY_MS = 1000;

export type NonceClaim = 'fresh' | 'replayed' | 'full';

/**
 * The nonces of the signed requests accepted within the signature window, to refuse a replay.
 * An entry is kept until its request's timestamp leaves the window (a replay carries the same
 * signed timestamp, so it is refused as stale from then on). Memory is bounded by `maxEntries`:
 * when that many requests were accepted within one window the cache refuses new ones ('full')
 * rather than forget a nonce that could then be replayed.
 */
export class NonceCache {
  private readonly expiries = new Map<string, number>();
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly maxEntries: number,
    private readonly windowMs: number,
  ) {}

  get size(): number {
    return this.expiries.size;
  }

  /** Records `nonce` of a request signed at `timestampMs`, unless seen already or full. */
  claim(nonce: string, timestampMs: number, nowMs = Date.now()): NonceClaim {
    if (this.expiries.has(nonce)) return 'replayed';
    if (nowMs - this.lastSweepMs >= SWEEP_EVERY_MS) this.sweep(nowMs);
    if (this.expiries.size >= this.maxEntries) return 'full';
    this.expiries.set(nonce, timestampMs + this.windowMs);
    return 'fresh';
  }

  private sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    for (const [nonce, expiry] of this.expiries) {
      if (expiry < nowMs) this.expiries.delete(nonce);
    }
  }
}
