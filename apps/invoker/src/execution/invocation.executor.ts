import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  HandlerClient,
  InvocationRequest,
  InvokeAbortedError,
  InvokeOutcome,
  JSON_CONTENT_TYPE,
  keyOf,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { hostname } from 'node:os';
import { InvokerMetrics } from '../invoker.metrics';
import { Finish, InvocationScheduler } from '../scheduling/invocation.scheduler';
import { HandlerRegistry } from './handler.registry';
import {
  AttemptResult,
  ClaimedInvocation,
  InvocationStore,
  OpenInvocation,
  StateChangeSet,
} from './invocation.store';
import { decideRetry, resolveRetryPolicy, RetryPolicyOverride } from './retry-policy';

export const SCHEDULER = Symbol('SCHEDULER');

/** Why a request in flight was aborted. */
type AbortReason = 'kill' | 'cancel' | 'pause' | 'lease' | 'shutdown';

interface Running {
  controller: AbortController;
  reason?: AbortReason;
  /** Until when our lease surely holds: taken before the claim or renewal that set it. */
  leaseUntil: number;
}

interface PendingFinish {
  result: AttemptResult;
  finish: Finish;
  /** An exclusive invocation that ends here: its key's state before the call, for a successor. */
  handover?: { stateBefore: Map<string, Buffer> | undefined };
}

/** The next invocation of a key, claimed with the end of the one before it. */
interface Successor {
  after: string;
  next: OpenInvocation;
  state: Map<string, Buffer>;
}

const CLAIM_BATCH = 256;
const FINISH_BATCH = 512;
/** After a refused claim (key busy elsewhere, lease still live), look again this much later. */
const CLAIM_RETRY_MS = 250;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Runs what the scheduler hands out: claims it in Postgres (batched), calls the handler over the
 * protocol (pooled keep-alive connections), and records the end of each attempt (batched), with
 * state changes, fenced by the claim's epoch. Holds a lease on every invocation it runs and
 * renews it; if renewing fails for too long it aborts its requests rather than risk an overlap.
 */
@Injectable()
export class InvocationExecutor implements OnApplicationShutdown {
  private readonly logger = new Logger('executor');
  readonly owner: string;
  private readonly client: HandlerClient;
  private readonly running = new Map<string, Running>();
  private claimQueue: OpenInvocation[] = [];
  private claimsInFlight = 0;
  private finishQueue: PendingFinish[] = [];
  private finishing = false;
  private pumpScheduled = false;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private leaseTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private stopped = false;
  private readonly executions = new Set<Promise<void>>();

  constructor(
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
    @Inject(SCHEDULER) private readonly scheduler: InvocationScheduler,
    @Inject(InvocationStore) private readonly store: InvocationStore,
    @Inject(HandlerRegistry) private readonly registry: HandlerRegistry,
    @Inject(InvokerMetrics) private readonly metrics: InvokerMetrics,
  ) {
    this.client = new HandlerClient({
      maxResponseBytes: config.invoker.maxResponseBytes,
      maxResponseBytesSetting: 'invoker.max-response-bytes',
    });
    this.owner = config.invoker.id ?? `${hostname()}-${process.pid}`;
    const ttl = config.invoker.leaseTtlMs;
    this.leaseTimer = setInterval(() => void this.renewLeases(), ttl / 4);
    this.watchdog = setInterval(() => this.abortExpiring(), Math.min(250, ttl / 8));
  }

  get leaseTtlMs(): number {
    return this.config.invoker.leaseTtlMs;
  }

  /** Starts whatever is due, soon (coalesced). */
  pump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.drain();
    });
  }

  /** A control message for an invocation of a partition this invoker owns. */
  async control(id: string, action: 'kill' | 'cancel' | 'pause' | 'wake'): Promise<void> {
    const run = this.running.get(id);
    if (run && action !== 'wake') {
      run.reason = action;
      run.controller.abort(action);
      return;
    }
    if (this.scheduler.isInFlight(id)) return; // being claimed: the claim re-reads the row
    const open = await this.store.open([id]);
    if (open.length === 0) this.scheduler.forget(id);
    else this.scheduler.upsert(open);
    this.pump();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    const grace = setTimeout(() => {
      // Hand back what is still running: it is released, not failed, and runs again elsewhere.
      for (const run of this.running.values()) {
        run.reason = 'shutdown';
        run.controller.abort('shutdown');
      }
    }, 10_000);
    while (this.executions.size > 0 || this.claimsInFlight > 0) {
      await Promise.allSettled([...this.executions]);
      await new Promise((r) => setTimeout(r, 10));
    }
    clearTimeout(grace);
    await this.flushFinishes();
    clearInterval(this.leaseTimer);
    clearInterval(this.watchdog);
    await this.client.close();
  }

  private drain(): void {
    const batch = this.scheduler.take();
    if (batch.length > 0) {
      this.claimQueue.push(...batch);
      void this.flushClaims();
    }
    this.armWakeTimer();
  }

  private armWakeTimer(): void {
    const next = this.scheduler.nextDueAt();
    if (next === undefined || next >= this.wakeAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = next;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAt = Infinity;
        this.pump();
      },
      Math.max(0, next - Date.now()),
    );
  }

  private async flushClaims(): Promise<void> {
    // A few claim transactions at once keep Postgres busy without a queue of them.
    while (this.claimQueue.length > 0 && this.claimsInFlight < 4) {
      const batch = this.claimQueue.splice(0, CLAIM_BATCH);
      this.claimsInFlight++;
      try {
        await this.claimAndRun(batch);
      } catch (err) {
        this.logger.warn(`claiming ${batch.length} invocations failed: ${String(err)}`);
        for (const inv of batch) {
          this.scheduler.finish(inv.id, {
            kind: 'again',
            status: inv.status,
            dueAt: Date.now() + 1000,
          });
        }
      } finally {
        this.claimsInFlight--;
      }
      this.pump();
    }
  }

  private async claimAndRun(batch: OpenInvocation[]): Promise<void> {
    const keys = batch.filter((i) => i.exclusive).map((i): [string, string] => [i.service, i.key]);
    const claimedAt = Date.now();
    const claimed = await this.store.claim(
      batch.map((i) => i.id),
      this.owner,
      this.config.invoker.leaseTtlMs,
      keys,
    );
    const byId = new Map(claimed.map((c) => [c.id, c]));
    const refused = batch.filter((i) => !byId.has(i.id));
    this.metrics.claims.inc({ path: 'claim', result: 'claimed' }, claimed.length);
    this.metrics.claims.inc({ path: 'claim', result: 'refused' }, refused.length);
    if (refused.length > 0) await this.refused(refused);
    await this.run(claimed, claimedAt);
  }

  /**
   * Runs invocations this invoker holds the claim of (claimed, or started by their insert) with
   * their keys' current state. `claimedAt` is taken before the claim: the lease runs from there.
   */
  async run(claimed: ClaimedInvocation[], claimedAt: number): Promise<void> {
    const keyed = claimed.filter((c) => c.serviceTy !== 'SERVICE');
    let state: Map<string, Map<string, Buffer>>;
    try {
      state = await this.store.loadState(keyed.map((c) => [c.service, c.key]));
    } catch (err) {
      // Not run: they stay claimed until the lease runs out, then are claimed again.
      this.logger.warn(`loading state for ${claimed.length} invocations failed: ${String(err)}`);
      const dueAt = claimedAt + this.config.invoker.leaseTtlMs;
      for (const c of claimed) {
        this.scheduler.finish(c.id, { kind: 'again', status: 'running', dueAt });
      }
      return;
    }
    for (const c of claimed) {
      this.track(this.execute(c, state.get(keyOf(c.service, c.key)), claimedAt));
    }
  }

  /** Claims refused: completed elsewhere, not yet due, or its key busy. Re-read and re-queue. */
  private async refused(invs: OpenInvocation[]): Promise<void> {
    const open = new Map((await this.store.open(invs.map((i) => i.id))).map((o) => [o.id, o]));
    const keysToReload = new Map<string, [string, string]>();
    for (const inv of invs) {
      const now = open.get(inv.id);
      if (!now) {
        this.scheduler.finish(inv.id, { kind: 'done' });
        continue;
      }
      if (now.status === 'paused') {
        this.scheduler.finish(inv.id, { kind: 'paused' });
        continue;
      }
      const dueAt = Math.max(now.dueAt, Date.now() + CLAIM_RETRY_MS);
      this.scheduler.finish(inv.id, { kind: 'again', status: now.status, dueAt });
      if (inv.exclusive) keysToReload.set(keyOf(inv.service, inv.key), [inv.service, inv.key]);
    }
    // An older invocation of the key may be missing here: load the key's queue from Postgres.
    for (const [service, key] of keysToReload.values()) {
      this.scheduler.upsert(await this.store.openForKey(service, key));
    }
  }

  private track(p: Promise<void>): void {
    this.executions.add(p);
    void p.finally(() => this.executions.delete(p));
  }

  private async execute(
    c: ClaimedInvocation,
    state: Map<string, Buffer> | undefined,
    claimedAt: number,
  ): Promise<void> {
    const run: Running = {
      controller: new AbortController(),
      leaseUntil: claimedAt + this.config.invoker.leaseTtlMs,
    };
    this.running.set(c.id, run);
    this.metrics.inFlight.inc();
    const attempt = c.retryCount + 1;
    const started = process.hrtime.bigint();
    let outcome: InvokeOutcome | 'aborted';
    let policies: RetryPolicyOverride[] = [];
    try {
      const target = await this.registry.resolve(c.service, c.handler);
      if (!target) {
        outcome = failure(
          false,
          404,
          `handler '${c.service}/${c.handler}' is not registered (was its deployment removed?)`,
        );
      } else {
        policies = target.retryPolicies;
        const badInput = checkJsonInput(target.inputContentType, c.input);
        outcome = badInput
          ? failure(true, 400, badInput)
          : await this.client.invoke(
              target.deploymentUri,
              this.request(c, attempt, target.inputContentType, state),
              {
                timeoutMs: this.config.invoker.requestTimeoutMs,
                signal: run.controller.signal,
                signingKey: this.config.invoker.signingKey,
                extraHeaders: target.additionalHeaders,
              },
            );
      }
    } catch (err) {
      outcome =
        err instanceof InvokeAbortedError
          ? 'aborted'
          : failure(
              false,
              500,
              `invoker error before the call: ${err instanceof Error ? err.message : String(err)}`,
            );
    } finally {
      this.running.delete(c.id);
      this.metrics.inFlight.dec();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.handlerLatency.observe({ service: c.service, handler: c.handler }, seconds);
    const pending = this.resultOf(c, attempt, outcome, run.reason, policies);
    if (c.exclusive && pending.finish.kind === 'done') {
      pending.handover = { stateBefore: state };
    }
    this.queueFinish(pending);
  }

  private request(
    c: ClaimedInvocation,
    attempt: number,
    contentType: string | null,
    state: Map<string, Buffer> | undefined,
  ): InvocationRequest {
    const request: InvocationRequest = {
      invocationId: c.id,
      service: c.service,
      handler: c.handler,
      key: c.key,
      attempt,
      headers: c.headers,
      rawHeaders: c.rawHeaders ?? {},
      body: (c.input ?? Buffer.alloc(0)).toString('base64'),
    };
    if (contentType) request.contentType = contentType;
    if (c.serviceTy !== 'SERVICE') {
      request.state = Object.fromEntries(
        [...(state ?? new Map<string, Buffer>())].map(([k, v]) => [k, v.toString('base64')]),
      );
    }
    return request;
  }

  private resultOf(
    c: ClaimedInvocation,
    attempt: number,
    outcome: InvokeOutcome | 'aborted',
    reason: AbortReason | undefined,
    manifestPolicies: RetryPolicyOverride[],
  ): PendingFinish {
    const base: AttemptResult = {
      id: c.id,
      epoch: c.epoch,
      status: 'completed',
      completionResult: null,
      output: null,
      outputContentType: null,
      completionFailure: null,
      lastFailure: null,
      lastFailureCode: null,
      retryCount: c.retryCount,
      nextRetryAt: null,
      state: null,
    };
    const done: Finish = { kind: 'done' };
    if (outcome === 'aborted') {
      this.metrics.attempts.inc({ outcome: 'aborted' });
      switch (reason) {
        case 'kill':
        case 'cancel': {
          const message = `Invocation ${reason === 'kill' ? 'killed' : 'canceled'} through the admin API`;
          return {
            result: {
              ...base,
              completionResult: 'failure',
              completionFailure: message,
              lastFailure: message,
              lastFailureCode: 409,
            },
            finish: done,
          };
        }
        case 'pause':
          return { result: { ...base, status: 'paused' }, finish: { kind: 'paused' } };
        case 'lease':
        case 'shutdown':
        case undefined: {
          // Handed back unfinished: not an attempt that failed, so no retry is counted.
          const status = c.exclusive ? 'pending' : 'ready';
          return { result: { ...base, status }, finish: { kind: 'again', status, dueAt: 0 } };
        }
      }
    }
    const changes =
      c.exclusive && outcome.state
        ? { service: c.service, key: c.key, changes: outcome.state }
        : null;
    if (outcome.kind === 'success') {
      this.metrics.attempts.inc({ outcome: 'success' });
      return {
        result: {
          ...base,
          completionResult: 'success',
          output: outcome.output,
          outputContentType: outcome.contentType ?? JSON_CONTENT_TYPE,
          state: changes,
        },
        finish: done,
      };
    }
    const failed = { ...base, lastFailure: outcome.message, lastFailureCode: outcome.code };
    if (outcome.terminal) {
      this.metrics.attempts.inc({ outcome: 'terminal' });
      return {
        result: {
          ...failed,
          completionResult: 'failure',
          completionFailure: outcome.message,
          state: changes,
        },
        finish: done,
      };
    }
    this.metrics.attempts.inc({ outcome: 'retryable' });
    const policy = resolveRetryPolicy(
      this.config.invocation.defaultRetryPolicy,
      ...manifestPolicies,
      c.retryPolicy,
    );
    const decision = decideRetry(policy, attempt);
    switch (decision.kind) {
      case 'retry': {
        const dueAt = Date.now() + decision.delayMs;
        return {
          result: {
            ...failed,
            status: 'backing-off',
            retryCount: attempt,
            nextRetryAt: new Date(dueAt),
          },
          finish: { kind: 'again', status: 'backing-off', dueAt },
        };
      }
      case 'pause':
        return {
          result: { ...failed, status: 'paused', retryCount: attempt },
          finish: { kind: 'paused' },
        };
      case 'kill':
      case 'dead-letter': {
        // Failed either way; a failed invocation's record goes to its dead-letter topic, if any.
        const noTopic = decision.kind === 'dead-letter' && !c.deadLetterTopic;
        const message = `${outcome.message} (gave up after ${attempt} attempts${noTopic ? '; on-max-attempts is "dead-letter" but the subscription has no dead-letter topic' : ''})`;
        return {
          result: {
            ...failed,
            retryCount: attempt,
            completionResult: 'failure',
            completionFailure: message,
          },
          finish: done,
        };
      }
    }
  }

  private queueFinish(pending: PendingFinish): void {
    this.finishQueue.push(pending);
    if (!this.finishing) void this.flushFinishes();
  }

  private async flushFinishes(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    try {
      while (this.finishQueue.length > 0) {
        const batch = this.finishQueue.splice(0, FINISH_BATCH);
        const successors = this.successors(batch);
        const claimedAt = Date.now();
        let recorded: { applied: Set<string>; claimed: ClaimedInvocation[] };
        try {
          recorded = await this.store.finish(
            batch.map((b) => b.result),
            successors.length === 0
              ? undefined
              : {
                  after: successors.map((s) => s.after),
                  ids: successors.map((s) => s.next.id),
                  owner: this.owner,
                  leaseMs: this.config.invoker.leaseTtlMs,
                  keys: successors.map((s) => [s.next.service, s.next.key]),
                },
          );
        } catch (err) {
          // Postgres unavailable: keep the results and try again; the leases are still ours.
          this.logger.warn(`recording ${batch.length} results failed, retrying: ${String(err)}`);
          for (const { next } of successors) {
            this.scheduler.finish(next.id, { kind: 'again', status: next.status, dueAt: 0 });
          }
          this.finishQueue.unshift(...batch);
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        for (const { result, finish } of batch) {
          if (!recorded.applied.has(result.id)) {
            // The claim no longer held: another invoker took over; nothing was written.
            this.scheduler.finish(result.id, { kind: 'done' });
            continue;
          }
          if (result.status === 'completed')
            this.metrics.completed.inc({ result: result.completionResult ?? 'failure' });
          this.scheduler.finish(result.id, finish);
        }
        const claimed = new Map(recorded.claimed.map((c) => [c.id, c]));
        for (const { next, state } of successors) {
          const c = claimed.get(next.id);
          if (c) this.track(this.execute(c, state, claimedAt));
        }
        const refused = successors.filter((s) => !claimed.has(s.next.id)).map((s) => s.next);
        this.metrics.claims.inc({ path: 'handover', result: 'claimed' }, claimed.size);
        this.metrics.claims.inc({ path: 'handover', result: 'refused' }, refused.length);
        if (refused.length > 0)
          await this.refused(refused).catch((err: unknown) => {
            this.logger.warn(`re-reading ${refused.length} refused claims failed: ${String(err)}`);
            for (const inv of refused) {
              this.scheduler.finish(inv.id, {
                kind: 'again',
                status: inv.status,
                dueAt: Date.now() + 1000,
              });
            }
          });
        this.pump();
      }
    } finally {
      this.finishing = false;
    }
  }

  /** For each exclusive invocation that ends in `batch`, the next one of its key, if it may run. */
  private successors(batch: PendingFinish[]): Successor[] {
    if (this.stopped) return [];
    const out: Successor[] = [];
    for (const { result, handover } of batch) {
      if (!handover) continue;
      const next = this.scheduler.successor(result.id);
      if (!next) continue;
      // The key's state once `result` is recorded: built only when there is someone to hand it to.
      out.push({
        after: result.id,
        next,
        state: withChanges(handover.stateBefore, result.state?.changes),
      });
    }
    return out;
  }

  private async renewLeases(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    const startedAt = Date.now();
    try {
      await this.store.renewLeases(this.owner, ids, this.config.invoker.leaseTtlMs);
      for (const id of ids) {
        const run = this.running.get(id);
        if (run) run.leaseUntil = startedAt + this.config.invoker.leaseTtlMs;
      }
    } catch (err) {
      this.logger.warn(`lease renewal failed: ${String(err)}`);
    }
  }

  /**
   * Aborts every request whose lease could expire within a third of the lease time: once it
   * expires another invoker may claim the invocation, and its attempt must be over by then (the
   * abort closes the connection). Checked on its own timer, so a renewal that hangs (Postgres
   * unreachable) counts as much as one that fails.
   */
  private abortExpiring(): void {
    const deadline = Date.now() + this.config.invoker.leaseTtlMs / 3;
    for (const [id, run] of this.running) {
      if (run.leaseUntil > deadline || run.reason !== undefined) continue;
      this.logger.warn(`lease of ${id} not renewed in time: aborting its request`);
      run.reason = 'lease';
      run.controller.abort('lease');
    }
  }
}

/** A key's state after an invocation's changes, as `applyStateChanges` writes them. */
function withChanges(
  before: Map<string, Buffer> | undefined,
  changes: StateChangeSet | undefined,
): Map<string, Buffer> {
  const after = new Map(changes?.clearAll ? [] : before);
  for (const name of changes?.clear ?? []) after.delete(name);
  for (const [name, value] of changes?.set ?? []) after.set(name, value);
  return after;
}

function failure(terminal: boolean, code: number, message: string): InvokeOutcome {
  return { kind: 'failure', terminal, code, message };
}

/** JSON handlers get JSON: a payload that is not fails terminally, before any call. */
function checkJsonInput(contentType: string | null, input: Buffer | null): string | undefined {
  if (!contentType?.startsWith(JSON_CONTENT_TYPE) || !input || input.length === 0) return undefined;
  try {
    JSON.parse(strictUtf8.decode(input));
    return undefined;
  } catch (err) {
    return `Cannot deserialize the input as JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
}
