import { DynamicModule, Module } from '@nestjs/common';
import type { TributaryConfig } from '../config';
import { DatabaseModule } from '../database/database.module';
import { HealthController } from '../health/health.controller';
import { BusModule } from './bus.module';
import { ConfigModule } from './config.module';

/** What every Tributary process has: config, Postgres (migrated), the bus, and `/health`. */
@Module({})
export class CoreModule {
  static forRoot(config: TributaryConfig, processName: string): DynamicModule {
    return {
      module: CoreModule,
      imports: [ConfigModule.forRoot(config, processName), DatabaseModule, BusModule],
      controllers: [HealthController],
      exports: [DatabaseModule, BusModule],
    };
  }
}
