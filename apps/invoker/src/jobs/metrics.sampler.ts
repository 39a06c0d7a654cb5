import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HandlerRegistry } from '../execution/handler.registry';
import { SCHEDULER } from '../execution/invocation.executor';
import { InvocationStore } from '../execution/invocation.store';
import { CommandIngestor } from '../ingest/command.ingestor';
import { InvokerMetrics } from '../invoker.metrics';
import { InvocationScheduler } from '../scheduling/invocation.scheduler';

/**
 * Samples the scheduler's gauges once a second (cheaper than updating them per invocation), and
 * the number of handlers the registry knows, reloading it when stale. The
 * scheduler forgets paused invocations that hold no key's queue, so the paused count comes from
 * Postgres instead: every paused invocation of the bus partitions this invoker owns.
 */
@Injectable()
export class MetricsSampler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('metrics');
  private timer?: NodeJS.Timeout;
  private paused = 0;
  private counting = false;

  constructor(
    @Inject(SCHEDULER) private readonly scheduler: InvocationScheduler,
    @Inject(InvokerMetrics) private readonly metrics: InvokerMetrics,
    @Inject(InvocationStore) private readonly store: InvocationStore,
    @Inject(CommandIngestor) private readonly ingestor: CommandIngestor,
    @Inject(HandlerRegistry) private readonly registry: HandlerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.sample(), 1_000);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    void this.countPaused();
    // Keeps the registry cache fresh in the background too, not only when a handler is resolved.
    this.registry
      .refreshIfStale()
      .then(() => this.metrics.registeredHandlers.set(this.registry.size))
      .catch((err: unknown) => this.logger.warn(`reloading the registry failed: ${String(err)}`));
    const waiting = this.scheduler.waiting();
    this.metrics.waiting.set({ key_class: 'exclusive' }, waiting.exclusive);
    this.metrics.waiting.set({ key_class: 'parallel' }, waiting.parallel);
    this.metrics.invocations.reset();
    for (const [status, n] of this.scheduler.countByStatus()) {
      if (status !== 'paused') this.metrics.invocations.set({ status }, n);
    }
    this.metrics.invocations.set({ status: 'paused' }, this.paused);
  }

  private async countPaused(): Promise<void> {
    if (this.counting) return;
    this.counting = true;
    try {
      this.paused = await this.store.countPaused([...this.ingestor.ownedPartitions()]);
    } catch (err) {
      this.logger.warn(`counting paused invocations failed: ${String(err)}`);
    } finally {
      this.counting = false;
    }
  }
}
