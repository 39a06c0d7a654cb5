import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../libs/shared/src/database/data-source';
import { runMigrationsLocked } from '../../libs/shared/src/database/migrate';

export const TEST_DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary';

/** The second PostgreSQL (its own cluster) that `scripts/infra-up.sh` starts for shard tests. */
export const SHARD_DATABASE_URL =
  process.env.SHARD_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5433/tributary';

/** A fresh Postgres schema for one test file; `drop()` removes it with everything in it. */
export interface TestSchema {
  name: string;
  url: string;
  /** Opens a data source on the schema (not migrated). */
  dataSource(): Promise<DataSource>;
  /** Opens a data source on the schema and runs every migration. */
  migrated(): Promise<DataSource>;
  drop(): Promise<void>;
}

export async function createTestSchema(
  label: string,
  url = TEST_DATABASE_URL,
  /** The schema's name; a new one by default. */
  given?: string,
): Promise<TestSchema> {
  const name =
    given ??
    `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = createDataSource({ url, poolSize: 1 });
  await admin.initialize();
  await admin.query(`CREATE SCHEMA "${name}"`);
  const opened: DataSource[] = [];
  const open = async (): Promise<DataSource> => {
    const ds = createDataSource({ url, schema: name, poolSize: 4 });
    await ds.initialize();
    opened.push(ds);
    return ds;
  };
  return {
    name,
    url,
    dataSource: open,
    async migrated() {
      const ds = await open();
      await runMigrationsLocked(ds);
      return ds;
    },
    async drop() {
      await Promise.all(opened.filter((d) => d.isInitialized).map((d) => d.destroy()));
      await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await admin.destroy();
    },
  };
}
