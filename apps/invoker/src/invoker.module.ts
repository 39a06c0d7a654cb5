import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, MetricsModule, TRIBUTARY_CONFIG, TributaryConfig } from '@tributary/shared';
import { HandlerRegistry } from './execution/handler.registry';
import { InvocationExecutor, SCHEDULER } from './execution/invocation.executor';
import { InvocationStore } from './execution/invocation.store';
import { BusSender, RestateRuntimes } from './execution/restate-runtime';
import { CommandIngestor } from './ingest/command.ingestor';
import { InvokerMetrics } from './invoker.metrics';
import { DeadLetterPublisher } from './jobs/dead-letter.publisher';
import { MetricsSampler } from './jobs/metrics.sampler';
import { RetentionJob } from './jobs/retention.job';
import { InvocationScheduler } from './scheduling/invocation.scheduler';

@Module({})
export class InvokerModule {
  static forRoot(config: TributaryConfig): DynamicModule {
    return {
      module: InvokerModule,
      imports: [CoreModule.forRoot(config, 'invoker'), MetricsModule],
      providers: [
        {
          provide: SCHEDULER,
          inject: [TRIBUTARY_CONFIG],
          useFactory: (c: TributaryConfig) => new InvocationScheduler(c.invoker.concurrency),
        },
        InvocationStore,
        HandlerRegistry,
        InvokerMetrics,
        BusSender,
        RestateRuntimes,
        InvocationExecutor,
        CommandIngestor,
        DeadLetterPublisher,
        RetentionJob,
        MetricsSampler,
      ],
    };
  }
}
