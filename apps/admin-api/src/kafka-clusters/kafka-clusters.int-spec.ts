import request from 'supertest';
import { DataSource } from 'typeorm';
import { newId, SubscriptionEntity } from '@tributary/shared';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { uniqueName } from '../../../../test/support/kafka';

const BROKERS = { 'bootstrap.servers': '127.0.0.1:9092' };

describe('kafka clusters (real Postgres and Kafka)', () => {
  let t: AdminTestApp;

  beforeAll(async () => {
    t = await startAdminApi('kafka-clusters');
  });

  afterAll(async () => {
    await t?.close();
  });

  const create = (body: object, path = '/kafka-clusters') => request(t.http).post(path).send(body);

  async function insertSubscription(cluster: string): Promise<string> {
    const id = newId('sub');
    await t.app
      .get(DataSource)
      .getRepository(SubscriptionEntity)
      .insert({
        id,
        source: `kafka://${cluster}/orders`,
        sink: 'service://Greeter/greet',
        cluster,
        topic: 'orders',
        serviceName: 'Greeter',
        handlerName: 'greet',
        options: { 'group.id': id, 'client.id': 'restate', 'sasl.password': 'hunter2' },
      });
    return id;
  }

  it('lists the config-file cluster, read-only', async () => {
    const res = await request(t.http).get('/kafka-clusters').expect(200);
    expect(res.body.clusters).toContainEqual({
      name: 'local',
      properties: expect.objectContaining({ 'bootstrap.servers': '127.0.0.1:9092' }),
      created_at: expect.any(String),
      source: 'config',
    });
    const one = await request(t.http).get('/kafka-clusters/local').expect(200);
    expect(one.body).toMatchObject({ name: 'local', source: 'config', subscriptions: [] });
  });

  it('creates a cluster (201, Location), masks secrets everywhere, and reports warnings', async () => {
    const name = uniqueName('created');
    const properties = {
      ...BROKERS,
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanism': 'PLAIN',
      'sasl.username': 'alice',
      'sasl.password': 'hunter2',
      'partition.assignment.strategy': 'range',
    };
    const res = await create({ name, properties }, '/v4/kafka-clusters');
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`kafka-clusters/${name}`);
    const masked = { ...properties, 'sasl.username': '***', 'sasl.password': '***' };
    expect(res.body).toEqual({
      name,
      properties: masked,
      created_at: expect.any(String),
      source: 'api',
      warnings: [expect.stringContaining("'partition.assignment.strategy'")],
    });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');

    const listed = await request(t.http).get('/v4/kafka-clusters').expect(200);
    expect(listed.body.clusters).toContainEqual({
      name,
      properties: masked,
      created_at: res.body.created_at,
      source: 'api',
    });
    const one = await request(t.http).get(`/kafka-clusters/${name}`).expect(200);
    expect(one.body).toEqual({
      name,
      properties: masked,
      created_at: res.body.created_at,
      source: 'api',
      subscriptions: [],
    });
  });

  it('refuses a duplicate name and the name of a config-file cluster with 409', async () => {
    const name = uniqueName('dup');
    await create({ name, properties: BROKERS }).expect(201);
    const dup = await create({ name, properties: BROKERS }).expect(409);
    expect(dup.body).toEqual({
      message: `kafka cluster '${name}' already exists in schema registry`,
      restate_code: null,
    });
    const config = await create({ name: 'local', properties: BROKERS }).expect(409);
    expect(config.body.message).toContain(
      "kafka cluster 'local' conflicts with static configuration",
    );
    expect(config.body.message).toContain('defined in the config file');
  });

  describe('rejects bad requests with 400 and a message', () => {
    it('properties without bootstrap.servers or metadata.broker.list (Restate`s message)', async () => {
      const name = uniqueName('nobrokers');
      const res = await create({ name, properties: { 'client.id': 'x' } }).expect(400);
      expect(res.body).toEqual({
        message: `kafka cluster '${name}' properties must contain either 'bootstrap.servers' or 'metadata.broker.list'`,
        restate_code: null,
      });
    });

    it('accepts metadata.broker.list instead', async () => {
      await create({
        name: uniqueName('mbl'),
        properties: { 'metadata.broker.list': '127.0.0.1:9092' },
      }).expect(201);
    });

    it.each([
      [{ ...BROKERS, 'no.such.key': 'x' }, "unknown option 'no.such.key'"],
      [{ ...BROKERS, 'session.timeout.ms': 12 }, "option 'session.timeout.ms' must be a string"],
      [{ ...BROKERS, 'tributary.dead-letter-topic': 'dlq' }, 'not in cluster properties'],
    ])('invalid properties %j', async (properties, message) => {
      const res = await create({ name: uniqueName('bad'), properties }).expect(400);
      expect(res.body.message).toContain(message);
      expect(res.body.message).toContain('invalid properties for kafka cluster');
    });

    it.each([
      [{ properties: BROKERS }, 'name must be'],
      [{ name: '', properties: BROKERS }, 'name must be'],
      [{ name: 'has space', properties: BROKERS }, 'name must be'],
      [{ name: 7, properties: BROKERS }, 'name must be a string'],
      [{ name: 'ok' }, 'properties must be an object'],
      [{ name: 'ok', properties: ['bootstrap.servers'] }, 'properties must be an object'],
      [{ name: 'ok', properties: BROKERS, extra: 1 }, 'property extra should not exist'],
    ])('body %j', async (body, message) => {
      const res = await create(body).expect(400);
      expect(res.body).toEqual({ message: expect.stringContaining(message), restate_code: null });
    });

    it('malformed JSON', async () => {
      const res = await request(t.http)
        .post('/kafka-clusters')
        .set('content-type', 'application/json')
        .send('{"name": "x", ')
        .expect(400);
      expect(res.body).toEqual({ message: expect.stringContaining('JSON'), restate_code: null });
    });

    it('a cluster name of the wrong shape in the path', async () => {
      const res = await request(t.http).get('/kafka-clusters/bad%20name').expect(400);
      expect(res.body.message).toContain("The request field 'cluster_name' is invalid");
      await request(t.http).delete('/kafka-clusters/bad%20name').expect(400);
      await request(t.http)
        .patch('/kafka-clusters/bad%20name')
        .send({ properties: BROKERS })
        .expect(400);
    });
  });

  it('answers 404 for an unknown cluster', async () => {
    const name = uniqueName('missing');
    const res = await request(t.http).get(`/kafka-clusters/${name}`).expect(404);
    expect(res.body).toEqual({
      message: `The requested Kafka cluster '${name}' does not exist`,
      restate_code: null,
    });
    await request(t.http)
      .patch(`/kafka-clusters/${name}`)
      .send({ properties: BROKERS })
      .expect(404);
    await request(t.http).delete(`/kafka-clusters/${name}`).expect(404);
  });

  it('PATCH replaces the properties; config-file clusters are read-only', async () => {
    const name = uniqueName('patched');
    await create({ name, properties: { ...BROKERS, 'client.id': 'old' } }).expect(201);
    const res = await request(t.http)
      .patch(`/v4/kafka-clusters/${name}`)
      .send({ properties: { 'bootstrap.servers': '127.0.0.1:9093', 'sasl.password': 'p' } })
      .expect(200);
    expect(res.body).toMatchObject({
      name,
      properties: { 'bootstrap.servers': '127.0.0.1:9093', 'sasl.password': '***' },
      warnings: expect.any(Array),
    });
    const one = await request(t.http).get(`/kafka-clusters/${name}`).expect(200);
    expect(one.body.properties).toEqual({
      'bootstrap.servers': '127.0.0.1:9093',
      'sasl.password': '***',
    });

    const noBrokers = await request(t.http)
      .patch(`/kafka-clusters/${name}`)
      .send({ properties: { 'client.id': 'x' } })
      .expect(400);
    expect(noBrokers.body.message).toContain("must contain either 'bootstrap.servers'");
    await request(t.http)
      .patch(`/kafka-clusters/${name}`)
      .send({ name, properties: BROKERS })
      .expect(400);

    const config = await request(t.http)
      .patch('/kafka-clusters/local')
      .send({ properties: BROKERS })
      .expect(409);
    expect(config.body.message).toContain(
      "kafka cluster 'local' cannot be updated, because it was defined in the configuration file",
    );
    await request(t.http).delete('/kafka-clusters/local').expect(409);
  });

  it('GET /kafka-clusters/{name} lists subscriptions only with include_subscriptions=true, as Restate', async () => {
    const name = uniqueName('with-subs');
    await create({ name, properties: BROKERS }).expect(201);
    const sub = await insertSubscription(name);
    for (const query of ['', '?include_subscriptions=false']) {
      const res = await request(t.http).get(`/kafka-clusters/${name}${query}`).expect(200);
      expect(res.body).toMatchObject({ name, source: 'api', subscriptions: [] });
    }
    const res = await request(t.http)
      .get(`/v4/kafka-clusters/${name}?include_subscriptions=true`)
      .expect(200);
    expect(res.body.subscriptions.map((s: { id: string }) => s.id)).toEqual([sub]);
    await request(t.http).get(`/kafka-clusters/${name}?include_subscriptions=yes`).expect(400);
  });

  it('DELETE is 202; with subscriptions 409 (Restate`s message) unless force=true', async () => {
    const name = uniqueName('deleted');
    await create({ name, properties: BROKERS }).expect(201);
    const sub = await insertSubscription(name);

    const refused = await request(t.http).delete(`/v4/kafka-clusters/${name}`).expect(409);
    expect(refused.body).toEqual({
      message: `Removing the kafka cluster '${name}' leads to subscription '${sub}' being orphan. Remove the subscription first, or use the 'force' flag.`,
      restate_code: null,
    });
    const withSubs = await request(t.http)
      .get(`/kafka-clusters/${name}?include_subscriptions=true`)
      .expect(200);
    expect(withSubs.body.subscriptions).toEqual([
      {
        id: sub,
        source: `kafka://${name}/orders`,
        sink: 'service://Greeter/greet',
        options: { 'group.id': sub, 'client.id': 'restate', 'sasl.password': '***' },
      },
    ]);
    await request(t.http).delete(`/kafka-clusters/${name}?force=perhaps`).expect(400);

    await request(t.http).delete(`/kafka-clusters/${name}?force=true`).expect(202);
    await request(t.http).get(`/kafka-clusters/${name}`).expect(404);

    const plain = uniqueName('plain');
    await create({ name: plain, properties: BROKERS }).expect(201);
    await request(t.http).delete(`/kafka-clusters/${plain}`).expect(202);
    const listed = await request(t.http).get('/kafka-clusters').expect(200);
    expect(listed.body.clusters.map((c: { name: string }) => c.name)).not.toContain(plain);
  });
});
