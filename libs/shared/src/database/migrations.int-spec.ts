import { randomBytes } from 'node:crypto';
import { createTestSchema, TEST_DATABASE_URL, TestSchema } from '../../../../test/support/database';
import { createDataSource } from './data-source';
import { pendingSchemaChanges, runMigrationsLocked } from './migrate';

describe('migrations (real Postgres)', () => {
  let schema: TestSchema;

  beforeEach(async () => {
    schema = await createTestSchema('migrations');
  });

  afterEach(async () => {
    await schema.drop();
  });

  it('leave no drift: generating a migration from the entities yields nothing', async () => {
    const ds = await schema.migrated();
    expect(await pendingSchemaChanges(ds)).toEqual([]);
  });

  it('detects drift when the schema lacks a migration', async () => {
    const ds = await schema.dataSource();
    const changes = await pendingSchemaChanges(ds);
    expect(changes.some((q) => q.includes('CREATE TABLE') && q.includes('invocations'))).toBe(true);
  });

  it('apply each migration once when several replicas start at the same time', async () => {
    const replicas = await Promise.all([1, 2, 3, 4].map(() => schema.dataSource()));
    const applied = await Promise.all(replicas.map((ds) => runMigrationsLocked(ds)));
    const all = applied.flat();
    expect(all).toHaveLength(replicas[0].migrations.length);
    expect(new Set(all).size).toBe(all.length);
    const rows: unknown[] = await replicas[0].query('SELECT name FROM migrations');
    expect(rows).toHaveLength(replicas[0].migrations.length);
  });

  it('create the configured schema when it does not exist yet', async () => {
    const name = `t_missing_${randomBytes(4).toString('hex')}`;
    const ds = createDataSource({ url: TEST_DATABASE_URL, schema: name, poolSize: 2 });
    await ds.initialize();
    try {
      const applied = await runMigrationsLocked(ds);
      expect(applied).toHaveLength(ds.migrations.length);
      const [{ n }]: { n: string }[] = await ds.query(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'invocations'`,
        [name],
      );
      expect(Number(n)).toBe(1);
    } finally {
      await ds.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await ds.destroy();
    }
  });

  it('store record headers holding U+0000 (json, not jsonb)', async () => {
    const ds = await schema.migrated();
    const headers = { 'na\u0000me': 'va\u0000lue' };
    await ds.query(`INSERT INTO invocation_payloads (id, headers) VALUES ('inv_nul', $1)`, [
      JSON.stringify(headers),
    ]);
    const [row]: { headers: unknown }[] = await ds.query(
      `SELECT headers FROM invocation_payloads WHERE id = 'inv_nul'`,
    );
    expect(row.headers).toEqual(headers);
  });
});
