import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, TributaryConfig } from '@tributary/shared';
import { ConsoleModule } from './console/console.module';
import { DeploymentsModule } from './deployments/deployments.module';
import { InvocationsModule } from './invocations/invocations.module';
import { KafkaClustersModule } from './kafka-clusters/kafka-clusters.module';
import { MetaModule } from './meta/meta.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';

@Module({})
export class AdminApiModule {
  static forRoot(config: TributaryConfig): DynamicModule {
    return {
      module: AdminApiModule,
      imports: [
        CoreModule.forRoot(config, 'admin-api'),
        DeploymentsModule,
        KafkaClustersModule,
        SubscriptionsModule,
        InvocationsModule,
        MetaModule,
        ConsoleModule,
      ],
    };
  }
}
