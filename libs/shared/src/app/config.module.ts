import { DynamicModule, Global, Module } from '@nestjs/common';
import type { TributaryConfig } from '../config';

/** Injection token of the validated configuration, loaded once in main.ts. */
export const TRIBUTARY_CONFIG = Symbol('TRIBUTARY_CONFIG');
/** `admin-api`, `consumer-worker` or `invoker`: used in client ids and logs. */
export const PROCESS_NAME = Symbol('PROCESS_NAME');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: TributaryConfig, processName: string): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: TRIBUTARY_CONFIG, useValue: config },
        { provide: PROCESS_NAME, useValue: processName },
      ],
      exports: [TRIBUTARY_CONFIG, PROCESS_NAME],
    };
  }
}
