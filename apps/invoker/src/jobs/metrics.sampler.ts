import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SCHEDULER } from '../execution/invocation.executor';
import { InvokerMetrics } from '../invoker.metrics';
import { InvocationScheduler } from '../scheduling/invocation.scheduler';

/** Samples the scheduler's gauges once a second (cheaper than updating them per invocation). */
@Injectable()
export class MetricsSampler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(SCHEDULER) private readonly scheduler: InvocationScheduler,
    @Inject(InvokerMetrics) private readonly metrics: InvokerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.sample(), 1_000);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const waiting = this.scheduler.waiting();
    this.metrics.waiting.set({ key_class: 'exclusive' }, waiting.exclusive);
    this.metrics.waiting.set({ key_class: 'parallel' }, waiting.parallel);
    this.metrics.invocations.reset();
    for (const [status, n] of this.scheduler.countByStatus())
      this.metrics.invocations.set({ status }, n);
  }
}
