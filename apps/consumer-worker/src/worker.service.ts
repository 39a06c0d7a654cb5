import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  Bus,
  KafkajsProducer,
  LogLine,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { hostname } from 'node:os';
import { SubscriptionCatalog } from './subscriptions/subscription-catalog';
import { SubscriptionRunner } from './subscriptions/subscription-runner';
import type { SubscriptionSpec } from './subscriptions/subscription-spec.model';
import { WorkerMetrics } from './worker.metrics';

/** How often the worker re-reads the subscriptions: changes are seen within this (plus a start). */
const POLL_INTERVAL_MS = 1_000;
/** A subscription whose consumer failed to start is retried after this long. */
const RETRY_AFTER_MS = 5_000;

/**
 * Keeps one consumer running per active subscription. Every worker joins every active
 * subscription's consumer group; Kafka's group protocol then gives each partition to exactly one
 * worker and moves it off a worker that stops heartbeating (session timeout), and commits from a
 * worker that lost a partition are fenced by the group generation. Postgres says what to consume;
 * Kafka decides who consumes which partition.
 */
@Injectable()
export class WorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('worker');
  readonly workerId: string;
  private readonly runners = new Map<string, SubscriptionRunner>();
  private readonly failedUntil = new Map<string, { fingerprint: string; until: number }>();
  private readonly problemsLogged = new Map<string, string>();
  private readonly producer: KafkajsProducer;
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  private stopping = false;
  /** Subscriptions `partitionsHeld` has a series for. */
  private heldExported = new Set<string>();

  constructor(
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(SubscriptionCatalog) private readonly catalog: SubscriptionCatalog,
    @Inject(WorkerMetrics) private readonly metrics: WorkerMetrics,
  ) {
    this.workerId = config.worker.id ?? `${hostname()}-${process.pid}`;
    this.producer = KafkajsProducer.create(bus.kafka);
  }

  /** Starts consuming only once the app is fully up (migrated, bus topics created, listening). */
  onApplicationBootstrap(): void {
    this.logger.log(`worker ${this.workerId} starting`);
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.reconciling;
    // Each runner finishes its batch in hand, commits it, and leaves its group.
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    await this.producer.close();
    this.logger.log('stopped: every consumer left its group');
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.reconciling = this.reconcile()
        .catch((err: unknown) => this.logger.warn(`reconcile failed: ${String(err)}`))
        .finally(() => this.schedule(POLL_INTERVAL_MS));
    }, delayMs);
  }

  private async reconcile(): Promise<void> {
    const active = (await this.catalog.load()).filter((s) => s.status === 'active');
    const wanted = new Map(active.filter((s) => !this.reportProblem(s)).map((s) => [s.id, s]));
    const stops: Promise<void>[] = [];
    for (const [id, runner] of this.runners) {
      if (wanted.get(id)?.fingerprint !== runner.spec.fingerprint) {
        this.runners.delete(id);
        this.metrics.handlerRegistered.remove({ subscription: id });
        stops.push(runner.stop().then(() => this.logger.log(`stopped subscription ${id}`)));
      }
    }
    await Promise.all(stops);
    // Starting joins a consumer group, which can take as long as the group's rebalance: started in
    // the background so that one slow group never delays stopping or starting the others.
    for (const spec of wanted.values()) {
      if (!this.runners.has(spec.id) && this.mayStart(spec)) this.start(spec);
    }
    this.metrics.claimedSubscriptions.set(
      [...this.runners.values()].filter((r) => r.holdsPartitions()).length,
    );
    this.exportHeld(active.map((s) => s.id));
  }

  /** Per active subscription: 1 when this worker holds one of its partitions, else 0. */
  private exportHeld(active: string[]): void {
    for (const id of this.heldExported) {
      if (!active.includes(id)) this.metrics.partitionsHeld.remove({ subscription: id });
    }
    this.heldExported = new Set(active);
    for (const id of active) {
      const held = this.runners.get(id)?.holdsPartitions() ? 1 : 0;
      this.metrics.partitionsHeld.set({ subscription: id }, held);
    }
  }

  private reportProblem(spec: SubscriptionSpec): boolean {
    if (spec.problem === null) {
      this.problemsLogged.delete(spec.id);
      return false;
    }
    if (this.problemsLogged.get(spec.id) !== spec.problem) {
      this.logger.warn(
        new LogLine(`subscription ${spec.id} not consumed: ${spec.problem}`, {
          subscriptionId: spec.id,
        }),
      );
      this.problemsLogged.set(spec.id, spec.problem);
    }
    return true;
  }

  private mayStart(spec: SubscriptionSpec): boolean {
    const failed = this.failedUntil.get(spec.id);
    return !failed || failed.fingerprint !== spec.fingerprint || failed.until <= Date.now();
  }

  private start(spec: SubscriptionSpec): void {
    const runner = new SubscriptionRunner(spec, {
      bus: this.producer,
      busTopic: this.bus.topics.invocations,
      workerId: this.workerId,
      maxRecordBytes: this.config.worker.maxRecordBytes,
      metrics: this.metrics,
    });
    this.runners.set(spec.id, runner);
    runner.start().then(
      () => {
        this.failedUntil.delete(spec.id);
        if (this.runners.get(spec.id) === runner) {
          const registered = spec.target.serviceTy !== null ? 1 : 0;
          this.metrics.handlerRegistered.set({ subscription: spec.id }, registered);
        }
      },
      (err: unknown) => {
        if (this.runners.get(spec.id) === runner) this.runners.delete(spec.id);
        this.failedUntil.set(spec.id, {
          fingerprint: spec.fingerprint,
          until: Date.now() + RETRY_AFTER_MS,
        });
        this.logger.warn(
          `subscription ${spec.id} could not start consuming ${spec.topic} (retrying in ${RETRY_AFTER_MS / 1000}s): ${err instanceof Error ? err.message : String(err)}`,
        );
      },
    );
  }
}
