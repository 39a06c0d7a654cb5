import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  InvocationEntity,
  InvocationPayloadEntity,
  InvocationStatus,
  newId,
  newInvocationId,
} from '@tributary/shared';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { registerService } from '../../../../test/support/fixtures';
import { testKafka, uniqueName, waitFor } from '../../../../test/support/kafka';
import { invocationIdForRecord } from '../../../../libs/shared/src/ids/ids';
import { KafkajsAdmin, KafkajsProducer } from '../../../../libs/shared/src/kafka/kafkajs.client';
import { schemaProblems } from '../../../../test/support/openapi-check';
import { ADMIN_OPENAPI_DOCUMENT } from '../meta/openapi.document';

/** The console's own endpoints on real Postgres and Kafka. */
describe('console endpoints (real Postgres and Kafka)', () => {
  let api: AdminTestApp;
  let ds: DataSource;
  let kafkaAdmin: KafkajsAdmin;
  let producer: KafkajsProducer;

  beforeAll(async () => {
    api = await startAdminApi('console-endpoints');
    ds = api.app.get(DataSource);
    kafkaAdmin = KafkajsAdmin.create(testKafka());
    producer = KafkajsProducer.create(testKafka());
    await registerService(ds, 'Cnt', 'SERVICE', { run: null });
  });

  afterAll(async () => {
    await producer?.close();
    await kafkaAdmin?.close();
    await api?.close();
  });

  const insert = async (
    sub: string | null,
    status: InvocationStatus,
    extra: Partial<
      Pick<InvocationEntity, 'completionResult' | 'completedAt' | 'deadLetteredAt'>
    > = {},
  ) => {
    const id = newInvocationId();
    await ds.getRepository(InvocationEntity).insert({
      id,
      targetService: 'Cnt',
      targetHandler: 'run',
      targetKey: '',
      serviceTy: 'SERVICE',
      handlerTy: null,
      exclusive: false,
      status,
      invokedBy: sub ? 'subscription' : 'ingress',
      subscriptionId: sub,
      ...extra,
    });
    return id;
  };

  it('counts by status and subscription, with what ended in the last minute', async () => {
    const a = newId('sub');
    const b = newId('sub');
    const minuteAgo = new Date(Date.now() - 5 * 60_000);
    await insert(a, 'completed', { completionResult: 'success', completedAt: new Date() });
    await insert(a, 'completed', { completionResult: 'success', completedAt: minuteAgo });
    await insert(a, 'completed', {
      completionResult: 'failure',
      completedAt: new Date(),
      deadLetteredAt: new Date(),
    });
    await insert(a, 'paused');
    await insert(b, 'running');
    await insert(null, 'pending');

    const all = await request(api.http).get('/invocation-counts').expect(200);
    expect(all.body.total).toBe(6);
    expect(all.body.by_status).toEqual({
      pending: 1,
      scheduled: 0,
      ready: 0,
      running: 1,
      'backing-off': 0,
      paused: 1,
      suspended: 0,
      completed: 3,
    });
    const ofA = all.body.by_subscription.find(
      (s: { subscription_id: string }) => s.subscription_id === a,
    );
    expect(ofA.last_minute).toEqual({ completed: 1, failed: 1, dead_lettered: 1 });
    expect(ofA.open).toMatchObject({ paused: 1, running: 0 });
    expect(all.body).toMatchObject({ cap: 10_000, capped: false });

    const filtered = await request(api.http)
      .get(`/invocation-counts?subscription_id=${a}&status=completed,paused`)
      .expect(200);
    expect(filtered.body.total).toBe(4);
    expect(filtered.body.by_subscription).toHaveLength(1);

    // Invocations created after as_of are not counted by a count frozen at it.
    const before = await request(api.http)
      .get(`/invocation-counts?created_before=${all.body.as_of}`)
      .expect(200);
    await insert(a, 'pending');
    const frozen = await request(api.http)
      .get(`/invocation-counts?created_before=${before.body.as_of}`)
      .expect(200);
    expect(frozen.body.total).toBe(6);
    expect((await request(api.http).get('/invocation-counts')).body.total).toBe(7);
  });

  it('refuses paging parameters and bad filters, naming them', async () => {
    const limit = await request(api.http).get('/invocation-counts?limit=5').expect(400);
    expect(limit.body.message).toContain("'limit' does not apply here");
    const status = await request(api.http).get('/invocation-counts?status=nope').expect(400);
    expect(status.body.message).toContain("unknown status 'nope'");
  });

  it("serves an invocation's input with the record's content type", async () => {
    const id = await insert(null, 'pending');
    await ds.getRepository(InvocationPayloadEntity).insert({
      id,
      input: Buffer.from([0xde, 0xad]),
      headers: { 'Content-Type': 'application/x-thing' },
      rawHeaders: null,
    });
    const res = await request(api.http)
      .get(`/invocations/${id}/input`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('application/x-thing');
    expect(res.headers['content-security-policy']).toContain('sandbox');
    expect(Buffer.compare(res.body as Buffer, Buffer.from([0xde, 0xad]))).toBe(0);
    await request(api.http).get(`/invocations/${newInvocationId()}/input`).expect(404);
  });

  it('samples a watched subscription: a first sample at once, more every few seconds', async () => {
    const topic = uniqueName('lag');
    await kafkaAdmin.ensureTopics([{ topic, partitions: 2 }]);
    const created = await request(api.http)
      .post('/subscriptions')
      .send({ source: `kafka://local/${topic}`, sink: 'service://Cnt/run' })
      .expect(201);
    const sub = created.body.id as string;
    const first = await request(api.http).get(`/subscriptions/${sub}/lag-history`).expect(200);
    expect(first.body.interval_ms).toBe(5000);
    expect(first.body.samples).toEqual([
      { at: expect.any(Number), lag: null, end_offset_sum: 0, committed_offset_sum: null },
    ]);
    await waitFor(
      async () =>
        (await request(api.http).get(`/subscriptions/${sub}/lag-history`)).body.samples.length >= 2,
      'a second sample',
      15_000,
      250,
    );
    await request(api.http)
      .get(`/subscriptions/${newId('sub')}/lag-history`)
      .expect(404);
  });

  /** The answer matches the OpenAPI document's schema for it. */
  const documented = (schema: string, body: unknown) =>
    expect(
      schemaProblems(
        ADMIN_OPENAPI_DOCUMENT as never,
        { $ref: `#/components/schemas/${schema}` },
        body,
      ),
    ).toEqual([]);

  /** A topic of one partition with `n` records, and a paused subscription on it. */
  const topicWithRecords = async (n: number) => {
    const topic = uniqueName('console-rec');
    // The records carry 2023 timestamps: without retention.ms=-1 the broker's retention check
    // (every 5 minutes) deletes them as 24 hours old in the middle of a test.
    await kafkaAdmin.ensureTopics([{ topic, partitions: 1, config: { 'retention.ms': '-1' } }]);
    await producer.send(
      topic,
      Array.from({ length: n }, (_, i) => ({
        key: `k${i}`,
        value: JSON.stringify({ n: i }),
        headers: { 'trace-id': `t${i}` },
        timestamp: String(1_700_000_000_000 + i * 1000),
      })),
    );
    const created = await request(api.http)
      .post('/subscriptions')
      .send({ source: `kafka://local/${topic}`, sink: 'service://Cnt/run' })
      .expect(201);
    const sub = created.body.id as string;
    await request(api.http).patch(`/subscriptions/${sub}/pause`).expect(200);
    return { topic, sub };
  };

  it('browses records by offset and time, each with the invocation id derived from it', async () => {
    const { topic, sub } = await topicWithRecords(5);
    const page = await request(api.http)
      .get(`/subscriptions/${sub}/records?partition=0&offset=1&limit=2`)
      .expect(200);
    documented('RecordPage', page.body);
    expect(page.body).toMatchObject({ topic, low_offset: '0', high_offset: '5', next_offset: '3' });
    expect(page.body.records.map((r: { offset: string }) => r.offset)).toEqual(['1', '2']);
    const [first] = page.body.records;
    expect(Buffer.from(first.key, 'base64').toString()).toBe('k1');
    expect(JSON.parse(Buffer.from(first.value, 'base64').toString())).toEqual({ n: 1 });
    expect(Buffer.from(first.headers['trace-id'], 'base64').toString()).toBe('t1');
    expect(first.timestamp).toBe('1700000001000');
    expect(first.invocation_id).toBe(invocationIdForRecord(sub, topic, 0, '1'));

    const byTime = await request(api.http)
      .get(`/subscriptions/${sub}/records?timestamp=${new Date(1_700_000_003_000).toISOString()}`)
      .expect(200);
    expect(byTime.body.records.map((r: { offset: string }) => r.offset)).toEqual(['3', '4']);
    expect(byTime.body.next_offset).toBeNull();
    // By default, the last records.
    const last = await request(api.http).get(`/subscriptions/${sub}/records?limit=1`).expect(200);
    expect(last.body.records.map((r: { offset: string }) => r.offset)).toEqual(['4']);
    const bad = await request(api.http)
      .get(`/subscriptions/${sub}/records?partition=7`)
      .expect(400);
    expect(bad.body.message).toContain('has partitions 0');
  });

  it('replays: a dry run counts the records read again and the invocations already stored', async () => {
    const { topic, sub } = await topicWithRecords(6);
    // As if a worker had read everything, and offsets 2 and 3 still had their invocations.
    const raw = testKafka().admin();
    await raw.connect();
    try {
      await raw.setOffsets({ groupId: sub, topic, partitions: [{ partition: 0, offset: '6' }] });
    } finally {
      await raw.disconnect();
    }
    for (const offset of ['2', '3']) {
      await ds.getRepository(InvocationEntity).insert({
        id: invocationIdForRecord(sub, topic, 0, offset),
        targetService: 'Cnt',
        targetHandler: 'run',
        serviceTy: 'SERVICE',
        exclusive: false,
        status: 'completed',
        invokedBy: 'subscription',
        subscriptionId: sub,
        kafkaTopic: topic,
        kafkaPartition: 0,
        kafkaOffset: offset,
      });
    }
    const dry = await request(api.http)
      .post(`/subscriptions/${sub}/reset-offsets`)
      .send({ to: 'offset', partition: 0, offset: 1, dry_run: true })
      .expect(200);
    documented('ResetOffsets', dry.body);
    expect(dry.body).toMatchObject({
      applied: false,
      records_read_again: 5,
      invocations_existing: 2,
      new_invocations: 3,
      records_skipped: 0,
    });
    expect(dry.body.partitions).toEqual([
      {
        partition: 0,
        committed_offset: 6,
        target_offset: 1,
        end_offset: 6,
        records_read_again: 5,
        invocations_existing: 2,
        records_skipped: 0,
      },
    ]);

    const applied = await request(api.http)
      .post(`/subscriptions/${sub}/reset-offsets`)
      .send({ to: 'earliest' })
      .expect(200);
    expect(applied.body).toMatchObject({ applied: true, records_read_again: 6 });
    const detail = await request(api.http).get(`/subscriptions/${sub}`).expect(200);
    expect(detail.body.partitions[0]).toMatchObject({ committed_offset: 0, lag: 6 });

    await request(api.http).patch(`/subscriptions/${sub}/resume`).expect(200);
    const refused = await request(api.http)
      .post(`/subscriptions/${sub}/reset-offsets`)
      .send({ to: 'latest' })
      .expect(409);
    expect(refused.body.message).toContain('pause it first');
    const invalid = await request(api.http)
      .post(`/subscriptions/${sub}/reset-offsets`)
      .send({ to: 'offset', offset: 3 })
      .expect(400);
    expect(invalid.body.message).toContain("needs 'partition'");
  });

  it("views and edits a key's state, with Restate's optimistic version check", async () => {
    await registerService(ds, 'StateObj', 'VIRTUAL_OBJECT', { add: 'EXCLUSIVE' });
    const url = '/services/StateObj/state';
    await request(api.http)
      .post(url)
      .send({ object_key: 'bob', new_state: { count: [...Buffer.from('1')], name: [98] } })
      .expect(202);
    const keys = await request(api.http).get(url).expect(200);
    expect(keys.body).toEqual({
      service: 'StateObj',
      keys: [{ key: 'bob', entries: 2 }],
      next_after: null,
    });
    const state = await request(api.http).get(`${url}/bob`).expect(200);
    documented('ObjectState', state.body);
    expect(state.body.entries).toEqual([
      { name: 'count', value: Buffer.from('1').toString('base64') },
      { name: 'name', value: Buffer.from('b').toString('base64') },
    ]);

    const change = { object_key: 'bob', version: state.body.version, new_state: { count: [50] } };
    await request(api.http).post(url).send(change).expect(202);
    // The same version again: the state has changed since.
    const stale = await request(api.http).post(url).send(change).expect(409);
    expect(stale.body.message).toContain('has changed since version');
    const after = await request(api.http).get(`${url}/bob`).expect(200);
    expect(after.body.entries).toEqual([
      { name: 'count', value: Buffer.from('2').toString('base64') },
    ]);

    // Not while an invocation of the key runs: its completion would overwrite the change.
    const running = await insert(null, 'running');
    await ds.query(
      `UPDATE invocations SET target_service = 'StateObj', target_key = 'bob', "exclusive" = true WHERE id = $1`,
      [running],
    );
    const busy = await request(api.http)
      .post(url)
      .send({ object_key: 'bob', new_state: {} })
      .expect(409);
    expect(busy.body.message).toContain(`Invocation '${running}'`);
    const notKeyed = await request(api.http).get('/services/Cnt/state').expect(400);
    expect(notKeyed.body.message).toContain('only virtual objects and workflows have state');
  });

  it("lists a subscription's dead letters, newest first, paged, with why", async () => {
    const created = await request(api.http)
      .post('/subscriptions')
      .send({
        source: `kafka://local/${uniqueName('dl')}`,
        sink: 'service://Cnt/run',
        options: { 'tributary.dead-letter-topic': 'console-dlq' },
      })
      .expect(201);
    const sub = created.body.id as string;
    const failed = (at: number) =>
      insert(sub, 'completed', {
        completionResult: 'failure',
        completedAt: new Date(Date.now() - at * 1000),
      });
    const ids = [];
    for (let i = 0; i < 52; i++) ids.push(await failed(i));
    await insert(sub, 'completed', { completionResult: 'success', completedAt: new Date() });
    await ds.query(
      `UPDATE invocations SET dead_letter_topic = 'console-dlq', completion_failure = 'boom',
              last_failure_code = 500 WHERE subscription_id = $1`,
      [sub],
    );
    const first = await request(api.http).get(`/subscriptions/${sub}/dead-letters`).expect(200);
    documented('DeadLetterPage', first.body);
    expect(first.body.total).toBe(52);
    expect(first.body.dead_letters).toHaveLength(50);
    expect(first.body.dead_letters[0]).toMatchObject({
      invocation_id: ids[0],
      failure: 'boom',
      error_code: 500,
      dead_letter_topic: 'console-dlq',
      dead_lettered_at: null,
    });
    const second = await request(api.http)
      .get(`/subscriptions/${sub}/dead-letters?cursor=${first.body.next_cursor}`)
      .expect(200);
    expect(second.body.dead_letters.map((d: { invocation_id: string }) => d.invocation_id)).toEqual(
      ids.slice(50),
    );
    expect(second.body.next_cursor).toBeNull();
  });
});
