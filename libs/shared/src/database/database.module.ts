import { Inject, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TRIBUTARY_CONFIG } from '../app/config.module';
import type { TributaryConfig } from '../config';
import { dataSourceOptions } from './data-source';
import { runMigrationsLocked } from './migrate';

@Injectable()
export class MigrationRunner implements OnModuleInit {
  private readonly logger = new Logger('migrations');

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const applied = await runMigrationsLocked(this.dataSource);
    if (applied.length > 0) this.logger.log(`applied ${applied.join(', ')}`);
  }
}

/** TypeORM on Postgres, with every pending migration applied (under a lock) before start. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [TRIBUTARY_CONFIG],
      useFactory: (config: TributaryConfig) =>
        dataSourceOptions({ url: config.database.url, schema: config.database.schema }),
    }),
  ],
  providers: [MigrationRunner],
  exports: [TypeOrmModule],
})
export class DatabaseModule {}
