import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TRIBUTARY_CONFIG } from '../app/config.module';
import type { TributaryConfig } from '../config';
import { createDataSource, dataSourceOptions } from './data-source';
import { runMigrationsLocked } from './migrate';
import { Shards } from './shards';

@Injectable()
export class MigrationRunner implements OnModuleInit {
  private readonly logger = new Logger('migrations');

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const applied = await runMigrationsLocked(this.dataSource);
    if (applied.length > 0) this.logger.log(`applied ${applied.join(', ')}`);
  }
}

/**
 * The invocation shards (`database.shards`): the main DataSource where a shard is
 * `database.url`'s database, a DataSource of its own, migrated like the main one, for each other.
 */
@Injectable()
export class ShardConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('shards');
  private readonly own: DataSource[] = [];
  readonly shards: Promise<Shards>;

  constructor(
    @Inject(TRIBUTARY_CONFIG) config: TributaryConfig,
    @Inject(DataSource) main: DataSource,
  ) {
    this.shards = this.open(config, main);
  }

  private async open(config: TributaryConfig, main: DataSource): Promise<Shards> {
    const { url, schema, shards } = config.database;
    const all = shards.map((shardUrl) => {
      if (shardUrl === url) return main;
      const db = createDataSource({ url: shardUrl, schema, applicationName: 'tributary-shard' });
      this.own.push(db);
      return db;
    });
    for (const db of this.own) {
      await db.initialize();
      const applied = await runMigrationsLocked(db);
      if (applied.length > 0)
        this.logger.log(`shard ${all.indexOf(db)}: applied ${applied.join(', ')}`);
    }
    if (all.length > 1) this.logger.log(`${all.length} invocation shards`);
    return new Shards(all);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shards.catch(() => undefined);
    await Promise.all(this.own.filter((db) => db.isInitialized).map((db) => db.destroy()));
  }
}

/**
 * TypeORM on Postgres, with every pending migration applied (under a lock) before start, and the
 * invocation shards (global, as TypeORM's DataSource is).
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [TRIBUTARY_CONFIG],
      useFactory: (config: TributaryConfig) =>
        dataSourceOptions({ url: config.database.url, schema: config.database.schema }),
    }),
  ],
  providers: [
    MigrationRunner,
    ShardConnections,
    {
      provide: Shards,
      inject: [ShardConnections],
      useFactory: (c: ShardConnections) => c.shards,
    },
  ],
  exports: [TypeOrmModule, Shards],
})
export class DatabaseModule {}
