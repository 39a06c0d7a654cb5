import { DataSource } from 'typeorm';
import { createTestSchema, TestSchema } from '../../../../test/support/database';

/**
 * `invocation_listing` is kept by triggers on `invocations`: every path that inserts or deletes
 * invocations keeps it equal, whatever its SQL; the row updates of an invocation's life never
 * touch it.
 */
describe('invocation_listing follows invocations (real Postgres)', () => {
  let schema: TestSchema;
  let ds: DataSource;

  beforeAll(async () => {
    schema = await createTestSchema('listing');
    ds = await schema.migrated();
  });

  afterAll(async () => {
    await schema.drop();
  });

  const insert = (ids: string[], sub: string | null, key: string) =>
    ds.query(
      `INSERT INTO invocations (id, target_service, target_handler, target_key, service_ty,
         exclusive, status, invoked_by, subscription_id)
       SELECT u, 'Svc', 'h', $2, 'VIRTUAL_OBJECT', true, 'pending', 'subscription', $3
         FROM unnest($1::text[]) AS u
       ON CONFLICT (id) DO NOTHING`,
      [ids, key, sub],
    );
  const listing = () =>
    ds.query<
      { id: string; same_time: boolean; subscription_id: string | null; key_digest: string }[]
    >(
      `SELECT l.id, l.created_at = i.created_at AS same_time, l.subscription_id, l.key_digest
         FROM invocation_listing l LEFT JOIN invocations i USING (id) ORDER BY l.id`,
    );

  it('gains each inserted row once, as a batch, a conflict and a second statement insert them', async () => {
    await insert(['a', 'b', 'c'], 'sub-1', 'k1');
    await insert(['c', 'd'], null, 'k2'); // c exists: ON CONFLICT DO NOTHING inserts only d
    const long = 'x'.repeat(10_000);
    await insert(['e'], 'sub-2', long);
    const rows = await listing();
    expect(rows.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(rows.every((r) => r.same_time)).toBe(true);
    expect(rows.find((r) => r.id === 'c')).toMatchObject({ subscription_id: 'sub-1' });
    expect(rows.find((r) => r.id === 'd')).toMatchObject({ subscription_id: null });
    const [{ md5 }] = await ds.query<{ md5: string }[]>(`SELECT md5($1) AS md5`, [long]);
    expect(rows.find((r) => r.id === 'e')!.key_digest).toBe(md5);
  });

  it('is not written by the updates of an invocation, and loses the rows deleted', async () => {
    const versions = () =>
      ds.query<{ id: string; xmin: string }[]>(
        `SELECT id, xmin::text FROM invocation_listing ORDER BY id`,
      );
    const untouched = await versions();
    await ds.query(`UPDATE invocations SET status = 'completed', completed_at = now()`);
    expect(await versions()).toEqual(untouched); // the same row versions: not rewritten
    const before = await listing();
    await ds.query(`DELETE FROM invocations WHERE id IN ('a', 'd')`);
    const after = await listing();
    expect(before.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(after.map((r) => r.id)).toEqual(['b', 'c', 'e']);
    await ds.query(`TRUNCATE invocations CASCADE`);
    expect(await listing()).toEqual([]);
    // After a truncate, ids seen before may come again.
    await insert(['b'], 'sub-3', 'k3');
    expect(await listing()).toMatchObject([{ id: 'b', subscription_id: 'sub-3' }]);
  });
});
