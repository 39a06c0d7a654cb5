import type { AbortReason } from './attempt-outcome';

/** A request in flight under a lease. */
export interface LeasedRun {
  controller: AbortController;
  reason?: AbortReason;
  /** Until when the lease surely holds: taken before the claim or renewal that set it. */
  leaseUntil: number;
  /** The bus partition of its invocation: where its row is (`Shards`). */
  busPartition: number;
}

/** What the keeper tells its owner about, for the log. */
export interface LeaseEvents {
  expiring?: (id: string) => void;
  renewFailed?: (err: unknown) => void;
}

/**
 * The leases of the requests in flight. Renewed every TTL/4; a request whose lease could run out
 * within TTL/3 is aborted (the abort closes its connection) so that its attempt is over before
 * another invoker may claim the invocation. `abortExpiring` runs on its own timer, so a renewal
 * that hangs (Postgres unreachable) counts as much as one that fails.
 */
export class LeaseKeeper {
  private readonly runs = new Map<string, LeasedRun>();
  private renewTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;

  constructor(
    readonly ttlMs: number,
    private readonly renew: (ids: string[]) => Promise<void>,
    private readonly report: LeaseEvents = {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the renewal and watchdog timers. */
  start(): void {
    this.renewTimer = setInterval(
      () => void this.renewAll().catch((err: unknown) => this.report.renewFailed?.(err)),
      this.ttlMs / 4,
    );
    this.watchdog = setInterval(() => this.abortExpiring(), Math.min(250, this.ttlMs / 8));
  }

  stop(): void {
    clearInterval(this.renewTimer);
    clearInterval(this.watchdog);
  }

  /** A request starts under a lease taken at `claimedAt` (before the claim was made). */
  add(id: string, claimedAt: number, busPartition = 0): LeasedRun {
    const run: LeasedRun = {
      controller: new AbortController(),
      leaseUntil: claimedAt + this.ttlMs,
      busPartition,
    };
    this.runs.set(id, run);
    return run;
  }

  get(id: string): LeasedRun | undefined {
    return this.runs.get(id);
  }

  delete(id: string): void {
    this.runs.delete(id);
  }

  values(): IterableIterator<LeasedRun> {
    return this.runs.values();
  }

  get size(): number {
    return this.runs.size;
  }

  /** Aborts a request for `reason`; the first reason given is the one that counts. */
  abort(run: LeasedRun, reason: AbortReason): void {
    run.reason ??= reason;
    run.controller.abort(reason);
  }

  /** Extends every lease in flight; on failure the leases keep their old end. */
  async renewAll(): Promise<void> {
    const ids = [...this.runs.keys()];
    if (ids.length === 0) return;
    const startedAt = this.now();
    await this.renew(ids);
    for (const id of ids) {
      const run = this.runs.get(id);
      if (run) run.leaseUntil = startedAt + this.ttlMs;
    }
  }

  /** Aborts the requests whose lease could run out within a third of the lease time. */
  abortExpiring(): void {
    const deadline = this.now() + this.ttlMs / 3;
    for (const [id, run] of this.runs) {
      if (run.leaseUntil > deadline || run.reason !== undefined) continue;
      this.report.expiring?.(id);
      this.abort(run, 'lease');
    }
  }
}
