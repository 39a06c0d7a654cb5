import { DataSource } from 'typeorm';
import { Shards } from '@tributary/shared';
import { createTestSchema, TestSchema } from '../../../../test/support/database';
import { SeededInvocations, seedInvocations } from '../../../../test/support/invocation-seed';
import { InvocationRepository } from '../invocations/invocation.repository';
import { InvocationFilter } from '../invocations/list-invocations.query';
import { deadLetterQueries } from './dead-letters';
import { COMPLETED_COUNT_CAP, InvocationCountsService } from './invocation-counts';
import { stateKeysQuery } from './object-state';

/** Rows: enough for Postgres to prefer an index where one serves, small enough for CI. */
const ROWS = Number(process.env.CONSOLE_PLAN_ROWS ?? 200_000);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan, with the node types above it. */
function nodes(plan: PlanNode, above: string[] = []): { node: PlanNode; above: string[] }[] {
  return [
    { node: plan, above },
    ...(plan.Plans ?? []).flatMap((p) => nodes(p, [...above, plan['Node Type']])),
  ];
}

/**
 * The plans of the admin API's queries behind the console, on a schema of generated invocations
 * (test/support/invocation-seed.ts): each reads the invocations table and its listing through an
 * index, never a sequential scan of either. The results are checked too, so a query that uses an index but
 * answers wrong fails. `npm run bench -- --only console` measures the same endpoints at
 * 1,000,000 rows.
 */
describe('console queries at scale: plans use indexes (real Postgres)', () => {
  jest.setTimeout(180_000);
  let schema: TestSchema;
  let ds: DataSource;
  let seed: SeededInvocations;
  let repo: InvocationRepository;
  let counts: InvocationCountsService;

  const plan = async ([sql, params]: [string, unknown[]]) => {
    const [row] = await ds.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    return nodes(row['QUERY PLAN'][0].Plan);
  };

  /** The plan reads invocations through one of `indexes`, with no sequential scan of it. */
  const expectIndexed = async (query: [string, unknown[]], indexes: string[]) => {
    const all = await plan(query);
    const scans = all
      // A bitmap scan names its index on the node below the one naming the table.
      .filter(
        ({ node }) =>
          ['invocations', 'invocation_listing'].includes(node['Relation Name'] as string) ||
          node['Index Name'],
      )
      .map(
        ({ node }) => `${node['Node Type']}${node['Index Name'] ? ` ${node['Index Name']}` : ''}`,
      );
    // The scans, for the failure message: which plan missed.
    const seen = { query: query[0].replace(/\s+/g, ' '), scans };
    expect(seen).not.toMatchObject({
      scans: expect.arrayContaining([expect.stringMatching(/^Seq Scan/)]),
    });
    expect(seen).toMatchObject({
      scans: expect.arrayContaining([
        expect.stringMatching(new RegExp(` (${indexes.join('|')})$`)),
      ]),
    });
  };

  const listQuery = (filter: InvocationFilter, cursor: { createdAt: string; id: string } | null) =>
    repo.listQuery(filter, 50, cursor).getQueryAndParameters() as [string, unknown[]];

  beforeAll(async () => {
    schema = await createTestSchema('console-plans');
    ds = await schema.migrated();
    seed = await seedInvocations(ds, ROWS);
    repo = new InvocationRepository(new Shards([ds]));
    counts = new InvocationCountsService(new Shards([ds]));
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('the invocation list, with each filter and a cursor, reads a page of an index', async () => {
    const sub = seed.subscriptions[3];
    const rare = seed.rareSubscription;
    const cases: [InvocationFilter, string[]][] = [
      [{}, ['PK_invocation_listing']],
      [{ statuses: ['completed'] }, ['PK_invocation_listing']],
      // Open ones are rare: the open rows by a partial index, sorted, never the whole listing.
      [{ statuses: ['paused'] }, ['IDX_invocations_paused', 'IDX_invocations_open']],
      [
        { statuses: ['backing-off', 'ready'] },
        ['IDX_invocations_open', 'IDX_invocations_runnable'],
      ],
      [
        { statuses: ['paused'], subscriptionId: sub, key: seed.key },
        ['IDX_invocations_paused', 'IDX_invocations_open'],
      ],
      // A common service or subscription: its first 50 are near the newest, either index does.
      [{ service: 'Svc3' }, ['IDX_invocation_listing_service', 'PK_invocation_listing']],
      [{ subscriptionId: sub }, ['IDX_invocation_listing_subscription', 'PK_invocation_listing']],
      // A rare one: its own index, in order.
      [{ service: seed.rareService }, ['IDX_invocation_listing_service']],
      [{ service: seed.rareService, handler: 'h1' }, ['IDX_invocation_listing_service']],
      [{ subscriptionId: seed.rareSubscription }, ['IDX_invocation_listing_subscription']],
      [
        { subscriptionId: seed.rareSubscription, statuses: ['completed'] },
        ['IDX_invocation_listing_subscription'],
      ],
      [{ service: 'Svc0', key: seed.key }, ['IDX_invocation_listing_key']],
      [{ key: seed.key }, ['IDX_invocation_listing_key']],
      [
        {
          createdAfter: new Date(Date.now() - 11 * 86_400_000).toISOString(),
          createdBefore: new Date(Date.now() - 10 * 86_400_000).toISOString(),
        },
        ['PK_invocation_listing'],
      ],
    ];
    for (const [filter, indexes] of cases) {
      await expectIndexed(listQuery(filter, null), indexes);
    }
    // A second page: by the cursor of the first, on the same index.
    const first = await repo.list({ subscriptionId: rare }, 50, null);
    expect(first.rows).toHaveLength(50);
    expect(first.rows.every((r) => r.subscriptionId === rare)).toBe(true);
    await expectIndexed(listQuery({ subscriptionId: rare }, first.next), [
      'IDX_invocation_listing_subscription',
    ]);
    const second = await repo.list({ subscriptionId: rare }, 50, first.next);
    expect(second.rows[0].createdAt.getTime()).toBeLessThanOrEqual(
      first.rows[49].createdAt.getTime(),
    );
    expect(new Set([...first.rows, ...second.rows].map((r) => r.id)).size).toBe(100);

    // Open statuses page the same way, off the listing: newest first, nothing repeated.
    const paused = await repo.list({ statuses: ['paused'] }, 50, null);
    const pausedNext = await repo.list({ statuses: ['paused'] }, 50, paused.next);
    const pages = [...paused.rows, ...pausedNext.rows];
    expect(pages).toHaveLength(100);
    expect(pages.every((r) => r.status === 'paused')).toBe(true);
    expect(new Set(pages.map((r) => r.id)).size).toBe(100);
    const times = pages.map((r) => r.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    await expectIndexed(listQuery({ statuses: ['paused'] }, paused.next), [
      'IDX_invocations_paused',
      'IDX_invocations_open',
    ]);
  });

  it('the counts read the open invocations, the last minute, and at most the cap', async () => {
    const asOf = new Date().toISOString();
    for (const filter of [
      {},
      { subscriptionId: seed.subscriptions[3] },
      { subscriptionId: seed.rareSubscription },
      { service: seed.rareService },
      { statuses: ['paused' as const] },
    ]) {
      const q = counts.queries(filter, asOf);
      if (q.open) {
        await expectIndexed(q.open.getQueryAndParameters() as [string, unknown[]], [
          'IDX_invocations_open',
          'IDX_invocations_paused',
        ]);
      }
      if (q.recent && q.deadLettered && q.completed) {
        await expectIndexed(q.recent.getQueryAndParameters() as [string, unknown[]], [
          'IDX_invocations_retention',
        ]);
        await expectIndexed(q.deadLettered.getQueryAndParameters() as [string, unknown[]], [
          'IDX_invocations_dead_lettered_at',
        ]);
        // Bounded by its LIMIT whatever the scan: it stops after the cap.
        const completed = await plan(q.completed.getQueryAndParameters() as [string, unknown[]]);
        const scan = completed.find(({ node }) => node['Relation Name'] === 'invocations')!;
        expect(scan.above).toContain('Limit');
      }
    }
    const all = await counts.count({});
    const open = ROWS / 500;
    expect(all.by_status.paused).toBe(Math.floor((ROWS - 2) / 500) + 1);
    expect(all.by_status['backing-off'] + all.by_status.ready + all.by_status.suspended).toBe(
      open * 3,
    );
    expect(all.by_status.completed).toBe(COMPLETED_COUNT_CAP);
    expect(all.capped).toBe(true);
    expect(all.total).toBe(COMPLETED_COUNT_CAP + open * 4);
    // The seed's last minute: about 200,000 / 30 days per minute, each completed a second later.
    const lastMinute = all.by_subscription.reduce((n, s) => n + s.last_minute.completed, 0);
    expect(lastMinute).toBeLessThan(ROWS / 1000);
    const one = await counts.count({ subscriptionId: seed.subscriptions[2], statuses: ['paused'] });
    expect(one.capped).toBe(false);
    expect(one.by_subscription).toHaveLength(1);
    expect(one.total).toBe(one.by_subscription[0].open.paused);
  });

  it("a subscription's dead letters: total and pages on their partial index", async () => {
    const sub = seed.subscriptions[7];
    const first = deadLetterQueries(sub, null);
    await expectIndexed(first.total, ['IDX_invocations_dead_letter_list']);
    await expectIndexed(first.page, ['IDX_invocations_dead_letter_list']);
    const [{ total }] = await ds.query<{ total: number }[]>(...first.total);
    // Every 100th invocation from the 7th is dead-lettered, all of them subscription 7's.
    expect(total).toBe(Math.floor((ROWS - 7) / 100) + 1);
    const page = await ds.query<{ id: string; exact_completed_at: string }[]>(...first.page);
    const last = page[49];
    await expectIndexed(deadLetterQueries(sub, [last.exact_completed_at, last.id]).page, [
      'IDX_invocations_dead_letter_list',
    ]);
  });

  it("a service's keys with state: a range of object_state's primary key", async () => {
    for (const after of [undefined, 'key-5000']) {
      const [sql, params] = stateKeysQuery(seed.stateService, after);
      const all = await plan([sql, params]);
      expect(all.map(({ node }) => node['Node Type'])).not.toContain('Seq Scan');
      expect(all.some(({ node }) => node['Index Name'] === 'PK_object_state')).toBe(true);
      const keys = await ds.query<{ key: string; entries: number }[]>(sql, params);
      expect(keys).toHaveLength(101);
      expect(keys.every((k) => k.entries === 2)).toBe(true);
    }
  });
});
