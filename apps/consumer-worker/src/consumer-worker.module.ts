import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, MetricsModule, TributaryConfig } from '@tributary/shared';
import { SubscriptionCatalog } from './subscriptions/subscription-catalog';
import { WorkerMetrics } from './worker.metrics';
import { WorkerService } from './worker.service';

@Module({})
export class ConsumerWorkerModule {
  static forRoot(config: TributaryConfig): DynamicModule {
    return {
      module: ConsumerWorkerModule,
      imports: [CoreModule.forRoot(config, 'consumer-worker'), MetricsModule],
      providers: [SubscriptionCatalog, WorkerMetrics, WorkerService],
    };
  }
}
