import { createTestSchema, TestSchema } from '../../../../test/support/database';
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
});
