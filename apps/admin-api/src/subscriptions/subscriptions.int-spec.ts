import {
  DeploymentEntity,
  HandlerEntity,
  HandlerType,
  KafkaClusterEntity,
  newId,
  ServiceEntity,
  ServiceType,
  SubscriptionEntity,
} from '@tributary/shared';
import type { Admin, Consumer, Producer } from 'kafkajs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { testKafka, uniqueName, waitFor } from '../../../../test/support/kafka';

const SUB_ID = /^sub_1[0-9A-Za-z]{22}$/;

/** Registers services as a deployment would (the deployments endpoint is tested on its own). */
async function registerServices(
  db: DataSource,
  services: { name: string; ty: ServiceType; handlers: [string, HandlerType | null][] }[],
): Promise<void> {
  const deploymentId = newId('dp');
  await db.getRepository(DeploymentEntity).insert({
    id: deploymentId,
    uri: `http://127.0.0.1:1/${deploymentId}`,
    additionalHeaders: {},
    minProtocolVersion: 1,
    maxProtocolVersion: 1,
    manifest: {},
  });
  for (const s of services) {
    await db.getRepository(ServiceEntity).insert({ name: s.name, ty: s.ty, deploymentId });
    await db.getRepository(HandlerEntity).insert(
      s.handlers.map(([name, ty]) => ({
        serviceName: s.name,
        name,
        ty,
        inputContentType: null,
        outputContentType: null,
      })),
    );
  }
}

describe('subscriptions admin API (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let db: DataSource;
  /** A topic name per test, so subscriptions of one test never match another's. */
  let topic: string;

  const source = () => `kafka://local/${topic}`;
  const create = (body: unknown) =>
    request(t.http)
      .post('/subscriptions')
      .send(body as object);
  const generation = async (id: string) =>
    (await db.getRepository(SubscriptionEntity).findOneByOrFail({ id })).generation;

  beforeAll(async () => {
    t = await startAdminApi('subscriptions');
    db = t.app.get(DataSource);
    await registerServices(db, [
      { name: 'Greeter', ty: 'SERVICE', handlers: [['greet', null]] },
      {
        name: 'Counter',
        ty: 'VIRTUAL_OBJECT',
        handlers: [
          ['add', 'EXCLUSIVE'],
          ['get', 'SHARED'],
        ],
      },
      {
        name: 'Signup',
        ty: 'WORKFLOW',
        handlers: [
          ['run', 'WORKFLOW'],
          ['status', 'SHARED'],
        ],
      },
    ]);
    await db.getRepository(KafkaClusterEntity).insert({
      name: 'runtime-sasl',
      properties: {
        'bootstrap.servers': '127.0.0.1:9092',
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'PLAIN',
        'group.id': 'cluster-group',
      },
    });
  });

  beforeEach(() => {
    topic = uniqueName('subs');
  });

  afterAll(async () => {
    await t.close();
  });

  describe('POST /subscriptions', () => {
    it('creates: 201, Location, sub_ id, resolved group.id and client.id, secrets masked', async () => {
      const res = await create({
        source: source(),
        sink: 'service://Counter/add',
        options: { 'auto.offset.reset': 'earliest', 'sasl.password': 'hunter2' },
      }).expect(201);
      const { id } = res.body;
      expect(id).toMatch(SUB_ID);
      expect(res.headers.location).toBe(`subscriptions/${id}`);
      expect(res.body).toEqual({
        id,
        source: source(),
        sink: 'service://Counter/add',
        options: {
          'auto.offset.reset': 'earliest',
          'sasl.password': '***',
          'group.id': id,
          'client.id': 'restate',
        },
        status: 'active',
        dead_letter_topic: null,
        warnings: [expect.stringContaining("'sasl.password' has no effect")],
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      // Stored unmasked: the worker needs the secret.
      const row = await db.getRepository(SubscriptionEntity).findOneByOrFail({ id });
      expect(row).toMatchObject({
        cluster: 'local',
        topic,
        serviceName: 'Counter',
        handlerName: 'add',
        status: 'active',
        generation: 1,
      });
      expect(row.options['sasl.password']).toBe('hunter2');
    });

    it('returns the existing subscription (200) for the same source, sink and options', async () => {
      const body = {
        source: source(),
        sink: 'service://Greeter/greet',
        options: { 'auto.offset.reset': 'earliest', 'fetch.wait.max.ms': '100' },
      };
      const first = await create(body).expect(201);
      const again = await create({
        ...body,
        options: { 'fetch.wait.max.ms': '100', 'auto.offset.reset': 'earliest' },
      }).expect(200);
      expect(again.body).toEqual(first.body);
      expect(again.headers.location).toBe(`subscriptions/${first.body.id}`);
      // Posting back what was returned (with the resolved group.id and client.id) is the same too.
      await create({ ...body, options: first.body.options }).expect(200);
      // Different options are a different subscription.
      const other = await create({ ...body, options: { 'auto.offset.reset': 'latest' } }).expect(
        201,
      );
      expect(other.body.id).not.toBe(first.body.id);
      const list = await request(t.http).get('/subscriptions').query({ source: source() });
      expect(list.body.subscriptions).toHaveLength(2);
    });

    it('makes one subscription of concurrent identical requests', async () => {
      const body = { source: source(), sink: 'service://Greeter/greet' };
      const answers = await Promise.all([1, 2, 3, 4].map(() => create(body)));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201]);
      expect(new Set(answers.map((a) => a.body.id as string)).size).toBe(1);
    });

    it('accepts every handler kind as a sink', async () => {
      for (const sink of [
        'service://Greeter/greet',
        'service://Counter/add',
        'service://Counter/get',
        'service://Signup/run',
        'service://Signup/status',
      ]) {
        await create({ source: source(), sink }).expect(201);
      }
    });

    it.each([
      ['source', 'local/orders', 'must have a scheme segment, with supported schemes: [kafka].'],
      [
        'source',
        'http://local/orders',
        'must have a scheme segment, with supported schemes: [kafka].',
      ],
      [
        'source',
        'kafka:///orders',
        'source URI of Kafka type must have a authority segment containing the cluster name.',
      ],
      ['sink', 'Counter/add', 'must have a scheme segment, with supported schemes: [service].'],
      [
        'sink',
        'http://Counter/add',
        'must have a scheme segment, with supported schemes: [service].',
      ],
      [
        'sink',
        'service:///add',
        'sink URI of service type must have a authority segment containing the service name.',
      ],
      ['sink', 'service://Nope/add', 'cannot find service/handler specified in the sink URI.'],
      ['sink', 'service://Counter/nope', 'cannot find service/handler specified in the sink URI.'],
      ['sink', 'service://Counter', 'cannot find service/handler specified in the sink URI.'],
    ])('rejects %s %s with META0009', async (field, uri, problem) => {
      const body = { source: 'kafka://local/orders', sink: 'service://Counter/add', [field]: uri };
      const res = await create(body).expect(400);
      expect(res.body).toEqual({
        message: `[META0009] invalid ${field} URI '${uri}': ${problem}`,
        restate_code: 'META0009',
      });
    });

    it.each(['kafka://local', 'kafka://local/', 'kafka://local/a/b', 'kafka://local/bad topic'])(
      'rejects source %s: the path must be one topic',
      async (uri) => {
        const res = await create({ source: uri, sink: 'service://Counter/add' }).expect(400);
        expect(res.body.message).toContain('must be one Kafka topic name');
      },
    );

    it('rejects an unknown cluster, listing config-file and runtime clusters', async () => {
      const res = await create({
        source: 'kafka://nope/orders',
        sink: 'service://Counter/add',
      }).expect(400);
      expect(res.body).toEqual({
        message: `Kafka cluster 'nope' not found. Available clusters: ["local", "runtime-sasl"]`,
        restate_code: null,
      });
    });

    it('layers options over the properties of a runtime cluster', async () => {
      const src = `kafka://runtime-sasl/${topic}`;
      const missing = await create({ source: src, sink: 'service://Counter/add' }).expect(400);
      expect(missing.body.message).toMatch(/^Invalid subscription options: .*sasl\.username/);
      const res = await create({
        source: src,
        sink: 'service://Counter/add',
        options: { 'sasl.username': 'alice', 'sasl.password': 'secret' },
      }).expect(201);
      expect(res.body.options).toEqual({
        'sasl.username': '***',
        'sasl.password': '***',
        'group.id': 'cluster-group',
        'client.id': 'restate',
      });
      expect(res.body.warnings).toEqual([]);
    });

    it('accepts librdkafka keys without an effect, with warnings; rejects unknown keys', async () => {
      const ok = await create({
        source: source(),
        sink: 'service://Counter/add',
        options: { 'enable.auto.commit': 'false', 'queued.min.messages': '1000' },
      }).expect(201);
      expect(ok.body.warnings).toEqual([
        expect.stringContaining("'enable.auto.commit'"),
        expect.stringContaining("'queued.min.messages'"),
      ]);
      const get = await request(t.http).get(`/subscriptions/${ok.body.id}`).expect(200);
      expect(get.body.warnings).toEqual(ok.body.warnings);

      const bad = await create({
        source: source(),
        sink: 'service://Counter/add',
        options: { 'bootstrap.server': 'x:1', 'tributary.nope': '1', 'fetch.wait.max.ms': 'soon' },
      }).expect(400);
      expect(bad.body.restate_code).toBeNull();
      expect(bad.body.message).toContain("unknown option 'bootstrap.server'");
      expect(bad.body.message).toContain("unknown option 'tributary.nope'");
      expect(bad.body.message).toContain("'fetch.wait.max.ms' must be a non-negative integer");
    });

    it('stores the dead-letter topic and shows it', async () => {
      const dlq = `${topic}.dlq`;
      const res = await create({
        source: source(),
        sink: 'service://Counter/add',
        options: { 'tributary.dead-letter-topic': dlq, 'tributary.max-attempts': '3' },
      }).expect(201);
      expect(res.body.dead_letter_topic).toBe(dlq);
      expect(res.body.options['tributary.dead-letter-topic']).toBe(dlq);
      const row = await db.getRepository(SubscriptionEntity).findOneByOrFail({ id: res.body.id });
      expect(row.deadLetterTopic).toBe(dlq);

      const self = await create({
        source: source(),
        sink: 'service://Counter/add',
        options: { 'tributary.dead-letter-topic': topic },
      }).expect(400);
      expect(self.body.message).toContain('must name a topic other than the source topic');
    });

    it.each([
      [
        'options values that are not strings',
        { options: { 'fetch.wait.max.ms': 100 } },
        /'fetch\.wait\.max\.ms' \(number\)/,
      ],
      ['options that are not an object', { options: ['a'] }, /options must be an object/],
      ['a source that is not a string', { source: 42 }, /source must be a string/],
      ['a missing sink', { sink: undefined }, /sink must be a string/],
      ['unknown fields', { extra: 1 }, /property extra should not exist/],
    ])('answers 400 for %s', async (_what, patch, message) => {
      const body = { source: source(), sink: 'service://Counter/add', ...patch };
      const res = await create(body).expect(400);
      expect(res.body).toEqual({ message: expect.stringMatching(message), restate_code: null });
    });

    it('answers 4xx with the error body for malformed, non-object and oversized bodies', async () => {
      const send = (raw: string) =>
        request(t.http).post('/subscriptions').set('content-type', 'application/json').send(raw);
      const malformed = await send('{"source": ').expect(400);
      expect(malformed.body).toEqual({
        message: expect.stringMatching(/JSON/),
        restate_code: null,
      });
      for (const raw of ['[]', '"text"', 'null', '42']) {
        const res = await send(raw);
        expect(res.status).toBe(400);
        expect(res.body.restate_code).toBeNull();
      }
      const big = JSON.stringify({
        source: source(),
        sink: 'service://Counter/add',
        options: { 'client.id': 'x'.repeat(t.config.admin.maxBodyBytes) },
      });
      const tooBig = await send(big).expect(413);
      expect(tooBig.body).toEqual({ message: expect.any(String), restate_code: null });
    });
  });

  describe('GET /subscriptions', () => {
    it('lists with exact source and sink filters, ANDed', async () => {
      const a = await create({ source: source(), sink: 'service://Counter/add' }).expect(201);
      const b = await create({ source: source(), sink: 'service://Greeter/greet' }).expect(201);
      const otherSource = `kafka://local/${topic}-other`;
      const c = await create({ source: otherSource, sink: 'service://Counter/add' }).expect(201);
      const ids = async (query: Record<string, string>): Promise<string[]> => {
        const res = await request(t.http).get('/subscriptions').query(query).expect(200);
        return (res.body.subscriptions as { id: string }[]).map((s) => s.id);
      };
      expect(await ids({ source: source() })).toEqual([a.body.id, b.body.id]);
      expect(await ids({ source: source(), sink: 'service://Counter/add' })).toEqual([a.body.id]);
      expect(await ids({ source: otherSource })).toEqual([c.body.id]);
      expect(await ids({ source: `${source()}x` })).toEqual([]);
      const all = await ids({});
      expect(all).toEqual(expect.arrayContaining([a.body.id, b.body.id, c.body.id]));
      const listed = (await request(t.http).get('/subscriptions').query({ source: otherSource }))
        .body.subscriptions[0];
      expect(listed).toEqual({ ...c.body, warnings: [] });
    });

    it('rejects unknown query parameters and repeated filters', async () => {
      await request(t.http).get('/subscriptions?service=Counter').expect(400);
      await request(t.http).get('/subscriptions?sink=a&sink=b').expect(400);
    });

    it('is served under /v2, /v3 and /v4 as well', async () => {
      const created = await create({ source: source(), sink: 'service://Counter/add' }).expect(201);
      for (const prefix of ['/v2', '/v3', '/v4']) {
        const list = await request(t.http)
          .get(`${prefix}/subscriptions`)
          .query({ source: source() })
          .expect(200);
        expect(list.body.subscriptions.map((s: { id: string }) => s.id)).toEqual([created.body.id]);
        await request(t.http).get(`${prefix}/subscriptions/${created.body.id}`).expect(200);
      }
      const v4 = await request(t.http)
        .post('/v4/subscriptions')
        .send({ source: source(), sink: 'service://Greeter/greet' })
        .expect(201);
      expect(v4.headers.location).toBe(`subscriptions/${v4.body.id}`);
    });
  });

  describe('GET /subscriptions/{id}', () => {
    it("answers 404 with Restate's message for an unknown id, 400 for a malformed one", async () => {
      const id = newId('sub');
      const res = await request(t.http).get(`/subscriptions/${id}`).expect(404);
      expect(res.body).toEqual({
        message: `The requested subscription '${id}' does not exist`,
        restate_code: null,
      });
      for (const bad of ['bad', 'sub_', `${id}x`, 'dp_17dIxfx6WtqJgknUTtNq7v3']) {
        const r = await request(t.http).get(`/subscriptions/${bad}`).expect(400);
        expect(r.body).toEqual({
          message: expect.stringContaining(`Invalid subscription id '${bad}'`),
          restate_code: null,
        });
      }
    });

    it('says why partitions are unknown when the topic does not exist', async () => {
      const created = await create({ source: source(), sink: 'service://Counter/add' }).expect(201);
      const res = await request(t.http).get(`/subscriptions/${created.body.id}`).expect(200);
      expect(res.body).toMatchObject({
        ...created.body,
        partitions: [],
        partitions_error: expect.stringContaining(`topic '${topic}'`),
      });
    });
  });

  describe('PATCH /subscriptions/{id}', () => {
    it('replaces the options, keeps group.id and client.id, and bumps the generation', async () => {
      const created = await create({
        source: source(),
        sink: 'service://Counter/add',
        options: { 'group.id': 'my-group', 'auto.offset.reset': 'earliest' },
      }).expect(201);
      const { id } = created.body;
      const res = await request(t.http)
        .patch(`/subscriptions/${id}`)
        .send({ options: { 'fetch.wait.max.ms': '50', 'tributary.dead-letter-topic': 'dlq' } })
        .expect(200);
      expect(res.body).toMatchObject({
        id,
        options: {
          'fetch.wait.max.ms': '50',
          'tributary.dead-letter-topic': 'dlq',
          'group.id': 'my-group',
          'client.id': 'restate',
        },
        dead_letter_topic: 'dlq',
        status: 'active',
      });
      expect(Object.keys(res.body.options)).toHaveLength(4);
      expect(await generation(id)).toBe(2);
      // The same options again change nothing.
      await request(t.http)
        .patch(`/subscriptions/${id}`)
        .send({ options: res.body.options })
        .expect(200);
      expect(await generation(id)).toBe(2);
      const get = await request(t.http).get(`/subscriptions/${id}`).expect(200);
      expect(get.body.options).toEqual(res.body.options);
    });

    it('re-validates, and leaves the subscription as it was on a 400', async () => {
      const created = await create({ source: source(), sink: 'service://Counter/add' }).expect(201);
      const { id } = created.body;
      const patch = (body: unknown) =>
        request(t.http)
          .patch(`/subscriptions/${id}`)
          .send(body as object);
      const bad = await patch({ options: { 'no.such.key': '1' } }).expect(400);
      expect(bad.body.message).toContain("unknown option 'no.such.key'");
      await patch({ options: { 'fetch.wait.max.ms': 5 } }).expect(400);
      await patch({ options: { 'tributary.dead-letter-topic': topic } }).expect(400);
      await patch({}).expect(400);
      await patch({ options: {}, sink: 'service://Greeter/greet' }).expect(400);
      expect(await generation(id)).toBe(1);
      const get = await request(t.http).get(`/subscriptions/${id}`).expect(200);
      expect(get.body.options).toEqual(created.body.options);
      await request(t.http)
        .patch(`/subscriptions/${newId('sub')}`)
        .send({ options: {} })
        .expect(404);
      await request(t.http).patch('/subscriptions/nope').send({ options: {} }).expect(400);
    });

    it('pauses and resumes, bumping the generation on each change', async () => {
      const created = await create({ source: source(), sink: 'service://Counter/add' }).expect(201);
      const { id } = created.body;
      const paused = await request(t.http).patch(`/subscriptions/${id}/pause`).expect(200);
      expect(paused.body).toMatchObject({ id, status: 'paused', options: created.body.options });
      expect(await generation(id)).toBe(2);
      await request(t.http).patch(`/subscriptions/${id}/pause`).expect(200);
      expect(await generation(id)).toBe(2);
      const get = await request(t.http).get(`/subscriptions/${id}`).expect(200);
      expect(get.body.status).toBe('paused');
      const resumed = await request(t.http).patch(`/v4/subscriptions/${id}/resume`).expect(200);
      expect(resumed.body.status).toBe('active');
      expect(await generation(id)).toBe(3);
      await request(t.http)
        .patch(`/subscriptions/${newId('sub')}/pause`)
        .expect(404);
      await request(t.http)
        .patch(`/subscriptions/${newId('sub')}/resume`)
        .expect(404);
    });
  });

  describe('DELETE /subscriptions/{id}', () => {
    it('answers 202, then the subscription is gone', async () => {
      const created = await create({ source: source(), sink: 'service://Counter/add' }).expect(201);
      const { id } = created.body;
      const res = await request(t.http).delete(`/subscriptions/${id}`).expect(202);
      expect(res.text).toBe('');
      await request(t.http).get(`/subscriptions/${id}`).expect(404);
      const again = await request(t.http).delete(`/subscriptions/${id}`).expect(404);
      expect(again.body.message).toBe(`The requested subscription '${id}' does not exist`);
      await request(t.http).delete('/subscriptions/bad').expect(400);
    });
  });

  describe('consumer position from Kafka', () => {
    let admin: Admin | undefined;
    let producer: Producer | undefined;
    let consumer: Consumer | undefined;

    afterEach(async () => {
      await consumer?.disconnect();
      await producer?.disconnect();
      await admin?.disconnect();
      consumer = producer = admin = undefined;
    });

    it("shows each partition's committed offset, end offset, lag and worker", async () => {
      const kafka = testKafka();
      admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
      producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          ...Array.from({ length: 6 }, (_, i) => ({ partition: 0, value: `p0-${i}` })),
          ...Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `p1-${i}` })),
        ],
      });
      const created = await create({ source: source(), sink: 'service://Counter/add' }).expect(201);
      const { id } = created.body;

      const before = await request(t.http).get(`/subscriptions/${id}`).expect(200);
      expect(before.body.partitions_error).toBeNull();
      expect(before.body.partitions).toEqual([
        { partition: 0, committed_offset: null, end_offset: 6, lag: null, worker: null },
        { partition: 1, committed_offset: null, end_offset: 4, lag: null, worker: null },
      ]);

      // A worker of the group (the subscription id) with client id `<client.id>@<workerId>`, as
      // consumer workers join, has consumed 4 records of partition 0 and commits that.
      consumer = testKafka('restate@worker-7').consumer({ groupId: id, maxWaitTimeInMs: 100 });
      const joined = new Promise((resolve) => consumer!.on(consumer!.events.GROUP_JOIN, resolve));
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
      await joined;
      await consumer.commitOffsets([{ topic, partition: 0, offset: '4' }]);

      const held = await waitFor(async () => {
        const r = await request(t.http).get(`/subscriptions/${id}`).expect(200);
        const parts = r.body.partitions as { worker: string | null; committed_offset: unknown }[];
        return parts.every((p) => p.worker === 'worker-7') && parts[0].committed_offset !== null
          ? parts
          : undefined;
      }, 'partitions held by worker-7 with the commit of partition 0');
      expect(held).toEqual([
        { partition: 0, committed_offset: 4, end_offset: 6, lag: 2, worker: 'worker-7' },
        { partition: 1, committed_offset: null, end_offset: 4, lag: null, worker: 'worker-7' },
      ]);
    });
  });

  describe('meta', () => {
    it('answers /version as Restate does, with the feature map the CLI requires', async () => {
      for (const path of ['/version', '/v4/version']) {
        const res = await request(t.http).get(path).expect(200);
        expect(res.body).toEqual({
          version: '1.7.12',
          min_admin_api_version: 2,
          max_admin_api_version: 4,
          features: {},
          server: 'tributary',
          tributary_version: expect.any(String),
        });
      }
    });

    it('serves an OpenAPI 3 document covering every admin endpoint', async () => {
      const res = await request(t.http).get('/openapi.json').expect(200);
      expect(res.body.openapi).toMatch(/^3\./);
      const operations = Object.entries(
        res.body.paths as Record<string, Record<string, unknown>>,
      ).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      expect(operations).toEqual(
        expect.arrayContaining([
          'GET /health',
          'GET /version',
          'POST /deployments',
          'GET /deployments/{id}',
          'DELETE /deployments/{id}',
          'GET /services/{service}/handlers',
          'PATCH /kafka-clusters/{name}',
          'POST /subscriptions',
          'PATCH /subscriptions/{id}',
          'PATCH /subscriptions/{id}/pause',
          'PATCH /subscriptions/{id}/resume',
          'GET /invocations',
          'GET /invocations/{id}/output',
          'PATCH /invocations/{id}/restart-as-new',
          'DELETE /invocations/{id}',
        ]),
      );
      // Every $ref points at a schema that exists.
      const refs = JSON.stringify(res.body).match(/#\/components\/schemas\/\w+/g) ?? [];
      for (const r of refs) {
        expect(res.body.components.schemas).toHaveProperty(r.split('/').pop()!);
      }
    });
  });
});
