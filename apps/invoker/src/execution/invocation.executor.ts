import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  HandlerClient,
  InvokeAbortedError,
  InvokeOutcome,
  invocationFields,
  keyOf,
  LogLine,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { hostname } from 'node:os';
import { InvokerMetrics } from '../invoker.metrics';
import { InvocationScheduler } from '../scheduling/invocation.scheduler';
import { AttemptEnd, attemptEnd } from './attempt-outcome';
import { logAttempt } from './attempt-log';
import { traceAttempt } from './attempt-tracing';
import { HandlerRegistry } from './handler.registry';
import { checkJsonInput, invocationRequest, withChanges } from './invocation-request';
import { ClaimedInvocation, Finished, InvocationStore, OpenInvocation } from './invocation.store';
import { LeaseKeeper } from './lease-keeper';
import {
  closeRestateSessions,
  invokeRestate,
  loadRequestIdentity,
  RequestSigner,
  StreamChoice,
} from '@tributary/shared/restate';
import { RestateRuntimes } from './restate-runtime';
import { resolveRetryPolicy, RetryPolicyOverride } from './retry-policy';

export const SCHEDULER = Symbol('SCHEDULER');

interface PendingFinish extends Pick<AttemptEnd, 'result' | 'finish'> {
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

/**
 * Runs what the scheduler hands out: claims it in Postgres (batched), calls the handler over the
 * protocol (pooled keep-alive connections), and records the end of each attempt (batched), with
 * state changes, fenced by the claim's epoch. The decisions are made elsewhere, each in a module
 * of its own: what an attempt's outcome means (`attempt-outcome.ts`, with the retry policy), what
 * the handler is sent (`invocation-request.ts`), and when a request must stop because its lease
 * may run out (`lease-keeper.ts`). An exclusive invocation that ends hands its key, with the
 * key's state, to the next one of the key in the transaction that records its end.
 */
@Injectable()
export class InvocationExecutor implements OnApplicationShutdown {
  private readonly logger = new Logger('executor');
  readonly owner: string;
  private readonly client: HandlerClient;
  private readonly leases: LeaseKeeper;
  /** Restate's request identity, for SDK endpoints started with `identityKeys`. */
  private readonly identity?: RequestSigner;
  /** Which Restate SDK handlers are streamed to, and which get their rounds whole. */
  private readonly streamChoice = new StreamChoice();
  private claimQueue: OpenInvocation[] = [];
  private claimsInFlight = 0;
  private finishQueue: PendingFinish[] = [];
  private finishing = false;
  private pumpScheduled = false;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private stopped = false;
  private readonly executions = new Set<Promise<void>>();

  constructor(
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
    @Inject(SCHEDULER) private readonly scheduler: InvocationScheduler,
    @Inject(InvocationStore) private readonly store: InvocationStore,
    @Inject(HandlerRegistry) private readonly registry: HandlerRegistry,
    @Inject(InvokerMetrics) private readonly metrics: InvokerMetrics,
    @Inject(RestateRuntimes) private readonly runtimes: RestateRuntimes,
  ) {
    this.client = new HandlerClient({
      maxResponseBytes: config.invoker.maxResponseBytes,
      maxResponseBytesSetting: 'invoker.max-response-bytes',
    });
    this.owner = config.invoker.id ?? `${hostname()}-${process.pid}`;
    this.identity = loadRequestIdentity(config.invoker.requestIdentityPrivateKeyPemFile);
    const ttl = config.invoker.leaseTtlMs;
    this.leases = new LeaseKeeper(
      ttl,
      (ids) =>
        this.store.renewLeases(
          this.owner,
          ids.map((id) => ({ id, busPartition: this.leases.get(id)?.busPartition ?? 0 })),
          ttl,
        ),
      {
        expiring: (id) =>
          this.logger.warn(
            new LogLine('lease not renewed in time: aborting its request', invocationFields(id)),
          ),
        renewFailed: (err) => this.logger.warn(`lease renewal failed: ${String(err)}`),
      },
    );
    this.leases.start();
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
  async control(
    id: string,
    busPartition: number,
    action: 'kill' | 'cancel' | 'pause' | 'wake',
  ): Promise<void> {
    const run = this.leases.get(id);
    if (run && action !== 'wake') {
      this.leases.abort(run, action);
      return;
    }
    if (this.scheduler.isInFlight(id)) return; // being claimed: the claim re-reads the row
    const open = await this.store.open([{ id, busPartition }]);
    if (open.length === 0) this.scheduler.forget(id);
    else this.scheduler.upsert(open);
    this.pump();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    const grace = setTimeout(() => {
      // Hand back what is still running: it is released, not failed, and runs again elsewhere.
      for (const run of this.leases.values()) this.leases.abort(run, 'shutdown');
    }, 10_000);
    while (this.executions.size > 0 || this.claimsInFlight > 0) {
      await Promise.allSettled([...this.executions]);
      await new Promise((r) => setTimeout(r, 10));
    }
    clearTimeout(grace);
    await this.flushFinishes();
    this.leases.stop();
    await Promise.all([this.client.close(), closeRestateSessions()]);
  }

  private drain(): void {
    const taken = this.scheduler.take();
    const scheduled = taken.filter((i) => i.status === 'scheduled');
    if (scheduled.length > 0) void this.promote(scheduled);
    const batch = scheduled.length === 0 ? taken : taken.filter((i) => i.status !== 'scheduled');
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

  /** Delayed sends that are due join their keys' queues (see `InvocationStore.promoteScheduled`). */
  private async promote(invs: OpenInvocation[]): Promise<void> {
    let promoted: OpenInvocation[];
    try {
      promoted = await this.store.promoteScheduled(invs);
    } catch (err) {
      this.logger.warn(`promoting ${invs.length} delayed sends failed: ${String(err)}`);
      for (const inv of invs) {
        this.scheduler.finish(inv.id, {
          kind: 'again',
          status: 'scheduled',
          dueAt: Date.now() + 1000,
        });
      }
      this.pump();
      return;
    }
    const byId = new Map(promoted.map((p) => [p.id, p]));
    for (const inv of invs) {
      // Forgotten and added again: an exclusive one now has its place at the end of its key.
      this.scheduler.finish(inv.id, { kind: 'done' });
      if (!byId.has(inv.id)) {
        this.scheduler.upsert(await this.store.open([inv]).catch(() => []));
      }
    }
    this.scheduler.upsert(promoted);
    this.pump();
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
    const claimedAt = Date.now();
    const claimed = await this.store.claim(batch, this.owner, this.config.invoker.leaseTtlMs);
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
      state = await this.store.loadState(keyed);
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
    const open = new Map((await this.store.open(invs)).map((o) => [o.id, o]));
    const keysToReload = new Map<string, OpenInvocation>();
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
      if (inv.exclusive) keysToReload.set(keyOf(inv.service, inv.key), inv);
    }
    // An older invocation of the key may be missing here: load the key's queue from Postgres.
    for (const inv of keysToReload.values()) {
      this.scheduler.upsert(await this.store.openForKey(inv));
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
    const run = this.leases.add(c.id, claimedAt, c.busPartition);
    this.metrics.inFlight.inc();
    const attempt = c.retryCount + 1;
    const started = process.hrtime.bigint();
    const trace = traceAttempt(c, attempt);
    let outcome: InvokeOutcome | 'aborted';
    let policies: RetryPolicyOverride[] = [];
    let journaled = false;
    let runOf: string | undefined;
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
        journaled = target.restate !== undefined;
        const badInput = checkJsonInput(target.inputContentType, c.input);
        const earlierRun =
          c.handlerTy === 'WORKFLOW' && !badInput ? await this.store.workflowRun(c) : undefined;
        if (earlierRun) runOf = earlierRun.id;
        outcome = badInput
          ? failure(true, 400, badInput)
          : earlierRun
            ? earlierRunOutcome(earlierRun)
            : target.restate
              ? await invokeRestate({
                  deploymentUri: target.deploymentUri,
                  service: c.service,
                  handler: c.handler,
                  protocol: target.restate,
                  invocationId: c.id,
                  serviceTy: c.serviceTy,
                  key: c.key,
                  input: c.input ?? Buffer.alloc(0),
                  headers: c.headers,
                  state: c.serviceTy !== 'SERVICE' ? (state ?? new Map()) : undefined,
                  // Restate's retry count is since the journal last grew: a ctx.run's own retry
                  // policy counts the failures of that run only.
                  retryCount: c.retryCount - c.journalRetryBase,
                  // Epoch 1 is the first claim ever: no attempt before it can have stored a journal.
                  journal: c.epoch > 1 ? await this.store.journal(c) : [],
                  inbox: c.epoch > 1 ? await this.store.inbox(c) : [],
                  runtime: this.runtimes.for(c),
                  identity: this.identity,
                  timeoutMs: this.config.invoker.requestTimeoutMs,
                  maxResponseBytes: this.config.invoker.maxResponseBytes,
                  signal: run.controller.signal,
                  attemptHeaders: trace.callHeaders('restate'),
                  streamChoice: this.streamChoice,
                })
              : await this.client.invoke(
                  target.deploymentUri,
                  invocationRequest(
                    c,
                    attempt,
                    target.inputContentType,
                    state,
                    trace.callHeaders('tributary'),
                  ),
                  {
                    timeoutMs: this.config.invoker.requestTimeoutMs,
                    signal: run.controller.signal,
                    signingKey: this.config.invoker.signingKey,
                    extraHeaders: trace.withHeaders(target.additionalHeaders),
                    batch: target.batch,
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
      this.leases.delete(c.id);
      this.metrics.inFlight.dec();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.handlerLatency.observe({ service: c.service, handler: c.handler }, seconds);
    const end = attemptEnd({
      invocation: c,
      attempt,
      outcome,
      abortReason: run.reason,
      policy: resolveRetryPolicy(
        this.config.invocation.defaultRetryPolicy,
        ...policies,
        c.retryPolicy,
      ),
      now: Date.now(),
    });
    this.metrics.attempts.inc({ outcome: end.kind });
    trace.end(outcome, end);
    logAttempt(this.logger, c, attempt, end);
    if (journaled) end.result.journaled = true;
    if (runOf) end.result.workflowRunOf = runOf;
    // Only a callee has a caller to tell: no work on the path of every other completion.
    if (end.result.status === 'completed' && c.callerCompletionId !== null) {
      const r = end.result;
      end.result.notifyCaller = this.runtimes.callResult(
        c,
        r.completionResult === 'success'
          ? { value: r.output ?? Buffer.alloc(0) }
          : {
              failure: {
                code: r.lastFailureCode ?? 500,
                message: r.completionFailure ?? 'the invocation failed',
              },
            },
      );
    }
    const pending: PendingFinish = end;
    // An exclusive invocation that ends here hands its key, and the key's state, to the next.
    if (c.exclusive && end.finish.kind === 'done') pending.handover = { stateBefore: state };
    this.queueFinish(pending);
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
        let recorded: Finished;
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
          // Postgres unavailable: keep the results and try again. The leases are no longer renewed:
          // a result whose claim was taken over meanwhile is refused by the epoch fence.
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
          // Something arrived for it while it ran: it is due now, not when it said.
          const woken = recorded.woken.has(result.id) && finish.kind === 'again';
          this.scheduler.finish(result.id, woken ? { ...finish, dueAt: 0 } : finish);
        }
        void this.runtimes.wake(recorded.wake);
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
}

/**
 * A workflow's `run` executes once per workflow id: a later invocation of it for the same id
 * does not run, and records the first run's result (Restate answers such a submission with the
 * first run's output too).
 */
function earlierRunOutcome(
  run: NonNullable<Awaited<ReturnType<InvocationStore['workflowRun']>>>,
): InvokeOutcome {
  if (run.result === 'success') {
    return {
      kind: 'success',
      output: run.output ?? Buffer.alloc(0),
      contentType: run.contentType ?? undefined,
      state: { set: new Map(), clear: [], clearAll: false },
    };
  }
  return failure(true, run.code ?? 500, run.failure ?? 'the workflow run failed');
}

function failure(terminal: boolean, code: number, message: string): InvokeOutcome {
  return { kind: 'failure', terminal, code, message };
}
