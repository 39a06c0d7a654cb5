import '../support/restate-polyfill';
import * as restate from '@restatedev/restate-sdk';
import type { DataSource } from 'typeorm';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { SHARD_DATABASE_URL, TEST_DATABASE_URL } from '../support/database';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';
import { RunningEndpoint, startHttp2Endpoint } from '../support/restate-sdk-servers';

/**
 * The invocation store over two PostgreSQL clusters (`database.shards`, the second cluster on
 * port 5433 that scripts/infra-up.sh starts): every invocation, its state and its journal in the
 * shard of its bus partition (p % 2), results of calls between keys of different shards
 * delivered through the outbox, and the admin API reading across both (lists and their paging,
 * counts, one invocation, actions on one).
 */
jest.setTimeout(240_000);

const KEYS = 12;
const RECORDS_PER_KEY = 10;
const CALLS = 16;

const ledger = restate.object({
  name: 'ShardLedger',
  handlers: {
    add: async (ctx: restate.ObjectContext, n: number) => {
      const total = ((await ctx.get<number>('total')) ?? 0) + n;
      ctx.set('total', total);
      return total;
    },
  },
});

/** Unkeyed: its bus partition comes from its id; its callee's from the callee's key. */
const caller = restate.service({
  name: 'ShardCaller',
  handlers: {
    go: async (ctx: restate.Context, input: { key: string; n: number }) => ({
      total: await ctx.objectClient(ledger, input.key).add(input.n),
    }),
  },
});

interface Row {
  id: string;
  status: string;
  bus_partition: number;
  subscription_id: string | null;
  caller_id: string | null;
  output: Buffer | null;
  target_key: string;
}

describe('sharded invocation store: two PostgreSQL clusters (real Kafka, processes, SDK)', () => {
  const kafka = testKafka();
  let pipeline: Pipeline;
  let endpoint: RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  let shards: DataSource[];

  beforeAll(async () => {
    endpoint = await startHttp2Endpoint(
      restate
        .endpoint()
        .bind(ledger)
        .bind(caller)
        .setLogger(() => undefined)
        .http2Handler(),
    );
    pipeline = await Pipeline.start('sharded', {
      invokers: 2,
      busPartitions: 4,
      shards: [TEST_DATABASE_URL, SHARD_DATABASE_URL],
    });
    shards = pipeline.shardDs;
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    const res = await pipeline.admin('POST', '/deployments', { uri: endpoint.url });
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await endpoint?.close();
  });

  async function subscribe(sink: string, partitions: number) {
    const topic = uniqueName('sharded');
    await admin.ensureTopics([{ topic, partitions }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest' },
    });
    expect(res.status).toBe(201);
    return { topic, sub: res.body.id as string };
  }

  /** Each shard's rows matching `where` (with `$1`), once there are `n` in all, all completed. */
  const completedIn = (where: string, param: unknown, n: number) =>
    waitFor(
      async () => {
        const perShard = await Promise.all(
          shards.map((ds) =>
            ds.query<Row[]>(
              `SELECT id, status, bus_partition, subscription_id, caller_id, output, target_key
                 FROM invocations WHERE ${where}`,
              [param],
            ),
          ),
        );
        const all = perShard.flat();
        return all.length === n && all.every((r) => r.status === 'completed')
          ? perShard
          : undefined;
      },
      `${n} completed invocations where ${where}\n${pipeline.outputs()}`,
      120_000,
      250,
    );

  const stateOf = async (key: string): Promise<number[]> => {
    const rows = await Promise.all(
      shards.map((ds) =>
        ds.query<{ value: Buffer }[]>(
          `SELECT value FROM object_state WHERE service_name = 'ShardLedger' AND object_key = $1`,
          [key],
        ),
      ),
    );
    return rows.flat().map((r) => JSON.parse(r.value.toString()) as number);
  };

  let keyedSub: string;
  let keyedRows: Row[][];

  it('puts each invocation and its key state in the shard of its bus partition, state exact', async () => {
    const { topic, sub } = await subscribe('service://ShardLedger/add', 4);
    keyedSub = sub;
    const records = [];
    for (let r = 0; r < RECORDS_PER_KEY; r++) {
      for (let k = 0; k < KEYS; k++) records.push({ key: `acct-${k}`, value: '1' });
    }
    await producer.send(topic, records);
    keyedRows = await completedIn('subscription_id = $1', sub, KEYS * RECORDS_PER_KEY);
    keyedRows.forEach((rows, shard) => {
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r.bus_partition % 2).toBe(shard);
    });
    for (let k = 0; k < KEYS; k++) {
      // One shard holds the key's state, and it counted every record once.
      expect(await stateOf(`acct-${k}`)).toEqual([RECORDS_PER_KEY]);
    }
    // Every key's invocations are in one shard: its bus partition's.
    const shardOfKey = new Map<string, number>();
    keyedRows.forEach((rows, shard) => {
      for (const r of rows) {
        expect(shardOfKey.get(r.target_key) ?? shard).toBe(shard);
        shardOfKey.set(r.target_key, shard);
      }
    });
  });

  it('completes calls whose callee is in the other shard: the result crosses through the outbox', async () => {
    const { topic, sub } = await subscribe('service://ShardCaller/go', 1);
    await producer.send(
      topic,
      Array.from({ length: CALLS }, (_, i) => ({
        key: null,
        value: JSON.stringify({ key: `call-${i}`, n: i + 1 }),
        partition: 0,
      })),
    );
    const callers = (await completedIn('subscription_id = $1', sub, CALLS)).flat();
    const callees = (
      await completedIn(
        'caller_id = ANY($1)',
        callers.map((c) => c.id),
        CALLS,
      )
    ).flat();
    const calleeOf = new Map(callees.map((c) => [c.caller_id, c]));
    let crossed = 0;
    for (const c of callers) {
      const callee = calleeOf.get(c.id)!;
      const n = Number(callee.target_key.slice('call-'.length)) + 1;
      expect(JSON.parse(c.output!.toString())).toEqual({ total: n });
      if (callee.bus_partition % 2 !== c.bus_partition % 2) crossed++;
    }
    // With 16 calls over 4 bus partitions, a caller and its callee in different shards is all
    // but certain (each pair is, with odds one half); the test is void without one.
    expect(crossed).toBeGreaterThan(0);
    for (const ds of shards) {
      expect(await ds.query(`SELECT * FROM shard_outbox`)).toEqual([]);
    }
  });

  it('lists, pages and counts across both shards through the admin API', async () => {
    const total = KEYS * RECORDS_PER_KEY;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/invocations?subscription_id=${keyedSub}&limit=25${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await pipeline.admin('GET', q);
      expect(res.status).toBe(200);
      const page = res.body.invocations as { id: string; created_at: string }[];
      // Newest first across the shards.
      for (let i = 1; i < page.length; i++) {
        expect(page[i - 1].created_at >= page[i].created_at).toBe(true);
      }
      seen.push(...page.map((p) => p.id));
      cursor = res.body.next_cursor as string | null;
      pages++;
    } while (cursor && pages < 20);
    expect(new Set(seen).size).toBe(total);
    expect(seen.length).toBe(total);

    const counts = await pipeline.admin('GET', `/invocation-counts?subscription_id=${keyedSub}`);
    expect(counts.status).toBe(200);
    expect(counts.body.by_status.completed).toBe(total);

    // One invocation of the second shard, read and acted on by id.
    const other = keyedRows[1][0];
    const one = await pipeline.admin('GET', `/invocations/${other.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: other.id, status: 'completed' });
    const input = await fetch(`${pipeline.adminUrl}/invocations/${other.id}/input`);
    expect(await input.text()).toBe('1');
    const purged = await pipeline.admin('PATCH', `/invocations/${other.id}/purge`);
    expect(purged.status).toBeLessThan(300);
    expect(await shards[1].query(`SELECT 1 FROM invocations WHERE id = $1`, [other.id])).toEqual(
      [],
    );
    expect((await pipeline.admin('GET', `/invocations/${other.id}`)).status).toBe(404);
  });

  it("reads and edits a key's state in the shard that holds it", async () => {
    const key = keyedRows[1][0].target_key;
    const keys = await pipeline.admin('GET', '/services/ShardLedger/state');
    expect(keys.status).toBe(200);
    // Both shards' keys, merged in order: the records' and the calls'.
    const listed = (keys.body.keys as { key: string }[]).map((k) => k.key);
    const expected = [
      ...Array.from({ length: KEYS }, (_, k) => `acct-${k}`),
      ...Array.from({ length: CALLS }, (_, k) => `call-${k}`),
    ].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed).toEqual(expected);
    const got = await pipeline.admin('GET', `/services/ShardLedger/state/${key}`);
    expect(got.status).toBe(200);
    const edit = await pipeline.admin('POST', '/services/ShardLedger/state', {
      object_key: key,
      version: got.body.version,
      new_state: { total: [...Buffer.from('42')] },
    });
    expect(edit.status).toBe(202);
    expect(await stateOf(key)).toEqual([42]);
  });
});
