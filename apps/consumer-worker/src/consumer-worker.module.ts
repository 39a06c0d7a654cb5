import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, TributaryConfig } from '@tributary/shared';

@Module({})
export class ConsumerWorkerModule {
  static forRoot(config: TributaryConfig): DynamicModule {
    return {
      module: ConsumerWorkerModule,
      imports: [CoreModule.forRoot(config, 'consumer-worker')],
    };
  }
}
