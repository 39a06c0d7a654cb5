import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { QueryErrorLogger } from './query-error.logger';

export interface DatabaseOptions {
  url: string;
  /** A Postgres schema to use instead of `public`; tests use one each. */
  schema?: string;
  poolSize?: number;
  applicationName?: string;
}

export function dataSourceOptions(opts: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    // Schema changes go through reviewed migrations only, run under an advisory lock at start.
    synchronize: false,
    migrationsRun: false,
    logging: ['error', 'warn'],
    logger: new QueryErrorLogger(),
    extra: {
      max: opts.poolSize ?? 10,
      application_name: opts.applicationName ?? 'tributary',
      // Unqualified names in migrations resolve to the chosen schema.
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    },
  };
}

export function createDataSource(opts: DatabaseOptions): DataSource {
  return new DataSource(dataSourceOptions(opts));
}
