import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, TributaryConfig } from '@tributary/shared';

@Module({})
export class InvokerModule {
  static forRoot(config: TributaryConfig): DynamicModule {
    return {
      module: InvokerModule,
      imports: [CoreModule.forRoot(config, 'invoker')],
    };
  }
}
