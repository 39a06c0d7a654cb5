import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  InvocationCommand,
  isExclusive,
  mayRunSql,
  Shards,
  type HandlerType,
  type ServiceType,
} from '@tributary/shared';
import { createTestSchema, TestSchema } from '../../../../test/support/database';
import {
  AttemptResult,
  ClaimedInvocation,
  InvocationStore,
  StateChangeSet,
} from './invocation.store';

interface AnalyzedPlan {
  Alias?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Rows Removed by Filter'?: number;
  Plans?: AnalyzedPlan[];
}

const planNodes = (p: AnalyzedPlan): AnalyzedPlan[] => [p, ...(p.Plans ?? []).flatMap(planNodes)];

/** The rule in the claim's form, on a row `i` of `invocations`. */
const CLAIM_RULE = mayRunSql({
  exclusive: 'i.exclusive',
  service: 'i.target_service',
  key: 'i.target_key',
  id: 'i.id',
  seq: 'i.seq',
});

/** Direct tests of the invoker's SQL against a real Postgres: the ordering rule, fence, dedup. */
describe('InvocationStore (real Postgres)', () => {
  let schema: TestSchema;
  let ds: DataSource;
  let store: InvocationStore;
  let n = 0;

  beforeAll(async () => {
    schema = await createTestSchema('store');
    ds = await schema.migrated();
    store = new InvocationStore(new Shards([ds]));
  });

  afterAll(async () => {
    await schema.drop();
  });

  const command = (
    key: string,
    serviceTy: ServiceType = 'VIRTUAL_OBJECT',
    handlerTy: HandlerType | null = 'EXCLUSIVE',
  ): InvocationCommand => ({
    type: 'invoke',
    v: 1,
    id: `inv_store_${++n}`,
    subscriptionId: 'sub_1',
    target: { service: 'Obj', handler: 'h', key, serviceTy, handlerTy },
    record: { topic: 't', partition: 0, offset: String(n), timestamp: '0', key: null },
    headers: {},
    rawHeaders: {},
    body: Buffer.from('{}'),
    failure: null,
    retryPolicy: null,
    deadLetterTopic: null,
  });

  async function insert(...commands: InvocationCommand[]): Promise<string[]> {
    await store.insert(commands.map((c) => ({ command: c, busPartition: 0 })));
    return commands.map((c) => c.id);
  }

  /** Claims by id (bus partition 0); a key given is locked as an exclusive one's. */
  function claim(
    ids: string[],
    owner: string,
    leaseMs: number,
    keys: [string, string][],
  ): Promise<ClaimedInvocation[]> {
    const [key] = keys;
    return store.claim(
      ids.map((id) => ({
        id,
        busPartition: 0,
        seq: 0n,
        exclusive: key !== undefined,
        service: key?.[0] ?? 'Obj',
        handler: 'h',
        key: key?.[1] ?? '',
        status: 'ready',
        dueAt: 0,
      })),
      owner,
      leaseMs,
    );
  }

  async function setRow(id: string, status: string, leaseMs?: number): Promise<void> {
    await ds.query(
      `UPDATE invocations SET status = $2,
         lease_expires_at = CASE WHEN $3::int IS NULL THEN NULL
                                 ELSE now() + $3::int * interval '1 millisecond' END
        WHERE id = $1`,
      [id, status, leaseMs ?? null],
    );
  }

  /** Of `ids`, those the claim's form of the rule lets run. */
  async function mayRun(ids: string[]): Promise<string[]> {
    const rows: { id: string }[] = await ds.query(
      `SELECT i.id FROM invocations i WHERE i.id = ANY($1) AND ${CLAIM_RULE}`,
      [ids],
    );
    return rows.map((r) => r.id);
  }

  /** Whether the insert's form of the rule lets a new exclusive invocation of `key` run. */
  async function newMayRun(key: string): Promise<boolean> {
    const [row]: { ok: boolean }[] = await ds.query(
      `SELECT ${mayRunSql({ exclusive: 'TRUE', service: `'Obj'`, key: '$1', id: `'new'`, seq: null })} AS ok`,
      [key],
    );
    return row.ok;
  }

  describe('mayRunSql, the ordering rule in Postgres', () => {
    it.each([
      ['pending', undefined, false],
      ['ready', undefined, false],
      ['backing-off', undefined, false],
      ['paused', undefined, false], // a paused one holds its key, as in Restate
      ['running', 60_000, false], // running under a live lease
      ['running', -60_000, false], // its lease ran out, but it is older: it runs again first
      ['completed', undefined, true],
    ])(
      'an older %s invocation of the key (lease %s ms) -> the next may run: %s',
      async (status, lease, expected) => {
        const key = `k${n}`;
        const [older, next] = await insert(command(key), command(key));
        await setRow(older, status, lease);
        expect(await mayRun([next])).toEqual(expected ? [next] : []);
      },
    );

    it('a younger invocation running under a live lease holds the key; an expired lease does not', async () => {
      const key = `k${n}`;
      const [older, younger] = await insert(command(key), command(key));
      await setRow(younger, 'running', 60_000);
      expect(await mayRun([older])).toEqual([]);
      await setRow(younger, 'running', -1_000);
      expect(await mayRun([older])).toEqual([older]);
    });

    it.each([
      ['SERVICE', null],
      ['VIRTUAL_OBJECT', 'SHARED'],
      ['WORKFLOW', 'SHARED'],
    ] as [ServiceType, HandlerType | null][])(
      'a %s %s invocation runs whatever its key does',
      async (serviceTy, handlerTy) => {
        const key = `k${n}`;
        const [older] = await insert(command(key));
        await setRow(older, 'running', 60_000);
        const [mine] = await insert(command(key, serviceTy, handlerTy));
        expect(isExclusive(serviceTy, handlerTy)).toBe(false);
        expect(await mayRun([mine])).toEqual([mine]);
      },
    );

    it('a workflow run is exclusive like an object handler', async () => {
      const key = `k${n}`;
      const [first, second] = await insert(
        command(key, 'WORKFLOW', 'WORKFLOW'),
        command(key, 'WORKFLOW', 'WORKFLOW'),
      );
      expect(await mayRun([first, second])).toEqual([first]);
    });

    it('an invocation being inserted may run only when no invocation of its key is open', async () => {
      const key = `k${n}`;
      expect(await newMayRun(key)).toBe(true);
      const [older] = await insert(command(key));
      expect(await newMayRun(key)).toBe(false);
      await setRow(older, 'paused');
      expect(await newMayRun(key)).toBe(false);
      await setRow(older, 'completed');
      expect(await newMayRun(key)).toBe(true);
    });

    it("checks a key's head without reading the key's queue behind it", async () => {
      const key = `queue${n}`;
      const ids = await insert(...Array.from({ length: 300 }, () => command(key)));
      const [row] = await ds.transaction(async (tx) => {
        // The schema is small: make Postgres show the index plan it takes on a large table.
        await tx.query(`SET LOCAL enable_seqscan = off`);
        await tx.query(`SET LOCAL enable_bitmapscan = off`);
        return tx.query<{ 'QUERY PLAN': { Plan: AnalyzedPlan }[] }[]>(
          `EXPLAIN (ANALYZE, FORMAT JSON) SELECT i.id FROM invocations i
            WHERE i.id = $1 AND ${CLAIM_RULE}`,
          [ids[0]],
        );
      });
      const scansOfOthers = planNodes(row['QUERY PLAN'][0].Plan).filter((p) =>
        p.Alias?.startsWith('o'),
      );
      expect(scansOfOthers.map((p) => p['Index Name']).sort()).toEqual([
        'IDX_invocations_open',
        'IDX_invocations_running',
      ]);
      // The head has no older row and nothing of its key runs: each check reads no row at all,
      // where one NOT EXISTS with an OR read the 299 rows queued behind it.
      const read = scansOfOthers.map((p) => p['Actual Rows'] + (p['Rows Removed by Filter'] ?? 0));
      expect(read).toEqual([0, 0]);
      expect(await mayRun([ids[0], ids[1]])).toEqual([ids[0]]);
    });
  });

  /** A successful end of `id` at `epoch` that sets state of object `Obj`/`key`. */
  const successfulEnd = (
    id: string,
    epoch: number,
    key: string,
    changes: StateChangeSet,
    output: Buffer | null = null,
  ): AttemptResult => ({
    id,
    busPartition: 0,
    epoch,
    status: 'completed',
    completionResult: 'success',
    output,
    outputContentType: output === null ? null : 'application/json',
    completionFailure: null,
    lastFailure: null,
    lastFailureCode: null,
    retryCount: 0,
    nextRetryAt: null,
    state: { service: 'Obj', key, changes },
  });

  /** State changes that only set keys. */
  const sets = (kv: Record<string, string>): StateChangeSet => ({
    set: new Map(Object.entries(kv).map(([k, v]) => [k, Buffer.from(v)])),
    clear: [],
    clearAll: false,
  });

  describe('the epoch fence', () => {
    const ended = (id: string, epoch: number): AttemptResult =>
      successfulEnd(id, epoch, 'fenced', sets({ s: '1' }), Buffer.from('"late"'));

    it('a finish with a stale epoch changes nothing, state included', async () => {
      const [id] = await insert(command('fenced'));
      const [first] = await claim([id], 'invoker-a', 1, [['Obj', 'fenced']]);
      expect(first.epoch).toBe(1);
      // The lease runs out; another invoker claims it again.
      await ds.query(
        `UPDATE invocations SET lease_expires_at = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      const [second] = await claim([id], 'invoker-b', 60_000, [['Obj', 'fenced']]);
      expect(second.epoch).toBe(2);

      const stale = await store.finish([ended(id, 1)]);
      expect([...stale.applied]).toEqual([]);
      const [row] = await ds.query(
        `SELECT status, lease_owner, output FROM invocations WHERE id = $1`,
        [id],
      );
      expect(row).toEqual({ status: 'running', lease_owner: 'invoker-b', output: null });
      expect(await ds.query(`SELECT * FROM object_state WHERE object_key = 'fenced'`)).toEqual([]);

      const current = await store.finish([ended(id, 2)]);
      expect([...current.applied]).toEqual([id]);
      const [done] = await ds.query(`SELECT status FROM invocations WHERE id = $1`, [id]);
      expect(done.status).toBe('completed');
    });
  });

  describe('state written with the ends', () => {
    const ended = (c: ClaimedInvocation, epoch: number, changes: StateChangeSet): AttemptResult =>
      successfulEnd(c.id, epoch, c.key, changes);
    const stateOf = async (key: string): Promise<Record<string, string>> => {
      const rows: { state_key: string; value: Buffer }[] = await ds.query(
        `SELECT state_key, value FROM object_state
          WHERE service_name = 'Obj' AND object_key = $1 ORDER BY state_key`,
        [key],
      );
      return Object.fromEntries(rows.map((r) => [r.state_key, r.value.toString()]));
    };
    const claimOne = async (key: string): Promise<ClaimedInvocation> => {
      const [id] = await insert(command(key));
      const [c] = await claim([id], 'invoker-s', 60_000, [['Obj', key]]);
      return c;
    };

    it('sets go with the ends that were recorded and only those; a batch that clears clears first', async () => {
      const [a, b, c] = [await claimOne('st-a'), await claimOne('st-b'), await claimOne('st-c')];
      // b's end carries a stale epoch: not recorded, and its state not written.
      const first = await store.finish([
        ended(a, a.epoch, sets({ x: '1', y: '2' })),
        ended(b, b.epoch + 1, sets({ x: 'stale' })),
        ended(c, c.epoch, sets({ x: '5' })),
      ]);
      expect([...first.applied].sort()).toEqual([a.id, c.id].sort());
      expect(await stateOf('st-a')).toEqual({ x: '1', y: '2' });
      expect(await stateOf('st-b')).toEqual({});
      expect(await stateOf('st-c')).toEqual({ x: '5' });

      // A batch with a clear in it: the clear, then the sets, in every key of the batch.
      const [a2, c2] = [await claimOne('st-a'), await claimOne('st-c')];
      await store.finish([
        ended(a2, a2.epoch, { ...sets({ z: '3' }), clear: ['x'] }),
        ended(c2, c2.epoch, sets({ x: '9' })),
      ]);
      expect(await stateOf('st-a')).toEqual({ y: '2', z: '3' });
      expect(await stateOf('st-c')).toEqual({ x: '9' });

      const a3 = await claimOne('st-a');
      await store.finish([ended(a3, a3.epoch, { ...sets({ w: '4' }), clearAll: true })]);
      expect(await stateOf('st-a')).toEqual({ w: '4' });
    });
  });

  /** Another run of the workflow id `key` asking for the first one's result. */
  const workflowRun = (key: string): ClaimedInvocation => ({
    id: 'another-run',
    busPartition: 0,
    epoch: 1,
    service: 'Obj',
    handler: 'h',
    key,
    exclusive: true,
    serviceTy: 'WORKFLOW',
    handlerTy: 'WORKFLOW',
    input: null,
    headers: {},
    rawHeaders: null,
    retryCount: 0,
    retryPolicy: null,
    deadLetterTopic: null,
    callerId: null,
    callerCompletionId: null,
    journalRetryBase: 0,
  });

  it('stores a failed invocation whose key no btree entry can hold, and finds it as the run of its workflow id', async () => {
    // Random bytes do not compress: about 5,300 bytes, over the 2,704 a btree entry holds.
    const key = randomBytes(4_000).toString('base64');
    const run = { ...command(key, 'WORKFLOW', 'WORKFLOW'), failure: 'refused for the test' };
    await insert(run);
    const [row] = await ds.query(
      `SELECT status, completion_result FROM invocations WHERE id = $1`,
      [run.id],
    );
    expect(row).toEqual({ status: 'completed', completion_result: 'failure' });
    expect(await store.workflowRun(workflowRun(key))).toMatchObject({
      id: run.id,
      result: 'failure',
    });
    expect(await store.workflowRun(workflowRun(`${key}x`))).toBeUndefined();
  });

  it('stores each failed attempt with its failure, nothing for one that succeeds', async () => {
    const [id] = await insert(command('attempts', 'SERVICE', null));
    const end = (epoch: number, failure: string | null): AttemptResult => ({
      id,
      busPartition: 0,
      epoch,
      status: failure === null ? 'completed' : 'backing-off',
      completionResult: failure === null ? 'success' : null,
      output: null,
      outputContentType: null,
      completionFailure: null,
      lastFailure: failure,
      lastFailureCode: failure === null ? null : 503,
      retryCount: failure === null ? 1 : epoch,
      nextRetryAt: failure === null ? null : new Date(),
      state: null,
    });
    const [first] = await claim([id], 'invoker-a', 60_000, []);
    await store.finish([end(first.epoch, 'unavailable')]);
    await setRow(id, 'ready');
    const [second] = await claim([id], 'invoker-a', 60_000, []);
    await store.finish([end(second.epoch, null)]);
    const rows: { epoch: number; code: number; failure: string; started: boolean }[] =
      await ds.query(
        `SELECT epoch, code, failure, started_at IS NOT NULL AS started
           FROM invocation_attempts WHERE id = $1 ORDER BY epoch`,
        [id],
      );
    expect(rows).toEqual([
      { epoch: first.epoch, code: 503, failure: 'unavailable', started: true },
    ]);
  });

  it('records a batch of ends: each its own output (bytes, empty or none), failure text and retry time', async () => {
    const ids = await insert(
      ...Array.from({ length: 4 }, () => command(`batch-${n}`, 'SERVICE', null)),
    );
    const claimed = await claim(ids, 'invoker-a', 60_000, []);
    const outputs = [Buffer.from([0, 1, 2, 255]), null, Buffer.alloc(0), Buffer.from('"ok"\n')];
    const failure = 'line one\nline "two" \\ end';
    const retryAt = new Date('2030-01-02T03:04:05.678Z');
    const results: AttemptResult[] = claimed.map((c, i) => ({
      id: c.id,
      busPartition: 0,
      epoch: c.epoch,
      status: i === 1 ? 'backing-off' : 'completed',
      completionResult: i === 1 ? null : 'success',
      output: outputs[i],
      outputContentType: outputs[i] === null ? null : 'application/octet-stream',
      completionFailure: null,
      lastFailure: i === 1 ? failure : null,
      lastFailureCode: i === 1 ? 500 : null,
      retryCount: i === 1 ? 1 : 0,
      nextRetryAt: i === 1 ? retryAt : null,
      state: null,
    }));
    const finished = await store.finish(results);
    expect([...finished.applied].sort()).toEqual([...ids].sort());
    const rows: {
      id: string;
      output: Buffer | null;
      last_failure: string | null;
      next_retry_at: Date | null;
    }[] = await ds.query(
      `SELECT id, output, last_failure, next_retry_at FROM invocations WHERE id = ANY($1)`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    claimed.forEach((c, i) => {
      const row = byId.get(c.id)!;
      expect(row.output).toEqual(outputs[i]);
      expect(row.last_failure).toBe(i === 1 ? failure : null);
      expect(row.next_retry_at?.toISOString() ?? null).toBe(i === 1 ? retryAt.toISOString() : null);
    });
  });

  describe('a bus command delivered twice', () => {
    it('makes one row, keeps its sequence, and comes back open only while it is open', async () => {
      const a = command('dup');
      const b = command('dup');
      const first = await store.insert([a, b].map((c) => ({ command: c, busPartition: 3 })));
      const seqs = new Map(first.open.map((o) => [o.id, o.seq]));
      expect(seqs.get(a.id)! < seqs.get(b.id)!).toBe(true);
      // Read again (a crash before the bus offset was committed), with a new command between.
      const c = command('dup');
      const again = await store.insert([a, c, b].map((x) => ({ command: x, busPartition: 3 })));
      const [{ count }] = await ds.query(
        `SELECT count(*)::int AS count FROM invocations WHERE id = ANY($1)`,
        [[a.id, b.id, c.id]],
      );
      expect(count).toBe(3);
      const seqAgain = new Map(again.open.map((o) => [o.id, o.seq]));
      expect(seqAgain.get(a.id)).toBe(seqs.get(a.id));
      expect(seqAgain.get(b.id)).toBe(seqs.get(b.id));
      expect(seqAgain.get(c.id)! > seqs.get(b.id)!).toBe(true);
      // Once completed, a re-read brings nothing back to run.
      await setRow(a.id, 'completed');
      const third = await store.insert([{ command: a, busPartition: 3 }]);
      expect(third.open).toEqual([]);
    });
  });
});
