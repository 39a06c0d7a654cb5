import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule, TributaryConfig } from '@tributary/shared';

@Module({})
export class AdminApiModule {
  static forRoot(config: TributaryConfig): DynamicModule {
    return {
      module: AdminApiModule,
      imports: [CoreModule.forRoot(config, 'admin-api')],
    };
  }
}
