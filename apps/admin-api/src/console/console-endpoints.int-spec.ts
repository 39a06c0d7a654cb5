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
import { KafkajsAdmin } from '../../../../libs/shared/src/kafka/kafkajs.client';

/** The console's own endpoints on real Postgres and Kafka. */
describe('console endpoints (real Postgres and Kafka)', () => {
  let api: AdminTestApp;
  let ds: DataSource;
  let kafkaAdmin: KafkajsAdmin;

  beforeAll(async () => {
    api = await startAdminApi('console-endpoints');
    ds = api.app.get(DataSource);
    kafkaAdmin = KafkajsAdmin.create(testKafka());
    await registerService(ds, 'Cnt', 'SERVICE', { run: null });
  });

  afterAll(async () => {
    await kafkaAdmin?.close();
    await api?.close();
  });

  const insert = async (
    sub: string | null,
    status: InvocationStatus,
    extra: Partial<InvocationEntity> = {},
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
      completed: 3,
    });
    const ofA = all.body.by_subscription.find(
      (s: { subscription_id: string }) => s.subscription_id === a,
    );
    expect(ofA.last_minute).toEqual({ completed: 1, failed: 1, dead_lettered: 1 });
    expect(ofA.by_status.completed).toBe(3);

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
});
