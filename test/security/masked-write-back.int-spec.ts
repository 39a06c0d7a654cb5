import request from 'supertest';
import { DataSource } from 'typeorm';
import { KafkaClusterEntity, SubscriptionEntity } from '../../libs/shared/src/database/entities';
import { AdminTestApp, startAdminApi } from '../support/admin-app';
import { registerService } from '../support/fixtures';
import { uniqueName } from '../support/kafka';

const SASL = {
  'bootstrap.servers': '127.0.0.1:9092',
  'security.protocol': 'SASL_PLAINTEXT',
  'sasl.mechanism': 'PLAIN',
};

/**
 * Responses show secrets as `***`. Writing back what GET returned (a common way to change one
 * property) must keep the stored secrets, not store the mask: for a secret key, `***` means
 * "unchanged". A masked secret with no stored value behind it is a 400 naming the key.
 */
describe('masked secrets written back (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let db: DataSource;

  const storedCluster = (name: string) =>
    db.getRepository(KafkaClusterEntity).findOneByOrFail({ name });

  beforeAll(async () => {
    t = await startAdminApi('masked-write-back');
    db = t.app.get(DataSource);
    await registerService(db, 'Greeter', 'SERVICE', { greet: null });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('PATCH /kafka-clusters/{name} with the properties GET returned keeps the secrets', async () => {
    const name = uniqueName('masked');
    const secrets = { 'sasl.username': 'alice', 'sasl.password': 'hunter2' };
    await request(t.http)
      .post('/kafka-clusters')
      .send({ name, properties: { ...SASL, ...secrets } })
      .expect(201);
    const got = await request(t.http).get(`/kafka-clusters/${name}`).expect(200);
    expect(got.body.properties).toMatchObject({ 'sasl.username': '***', 'sasl.password': '***' });

    // Change one property, write back the rest as shown.
    const patched = await request(t.http)
      .patch(`/kafka-clusters/${name}`)
      .send({ properties: { ...got.body.properties, 'client.id': 'changed' } })
      .expect(200);
    expect(patched.body.properties).toMatchObject({
      'sasl.password': '***',
      'client.id': 'changed',
    });
    expect((await storedCluster(name)).properties).toEqual({
      ...SASL,
      ...secrets,
      'client.id': 'changed',
    });

    // A new value replaces the secret; leaving the key out removes it.
    await request(t.http)
      .patch(`/kafka-clusters/${name}`)
      .send({ properties: { ...SASL, 'sasl.username': '***', 'sasl.password': 'new-password' } })
      .expect(200);
    expect((await storedCluster(name)).properties).toEqual({
      ...SASL,
      'sasl.username': 'alice',
      'sasl.password': 'new-password',
    });
  });

  it('answers 400 naming the key for a masked secret with no stored value, storing nothing', async () => {
    const name = uniqueName('masked');
    await request(t.http)
      .post('/kafka-clusters')
      .send({ name, properties: { ...SASL, 'sasl.username': 'alice', 'sasl.password': 'pw' } })
      .expect(201);
    const before = (await storedCluster(name)).properties;
    const res = await request(t.http)
      .patch(`/kafka-clusters/${name}`)
      .send({ properties: { ...before, 'ssl.key.password': '***' } })
      .expect(400);
    expect(res.body).toEqual({
      message: `invalid properties for kafka cluster '${name}': property 'ssl.key.password' is "***", the mask responses show instead of a secret, but the cluster has no stored value of 'ssl.key.password' to keep; send the real value`,
      restate_code: null,
    });
    expect((await storedCluster(name)).properties).toEqual(before);

    const fresh = uniqueName('masked');
    const created = await request(t.http)
      .post('/kafka-clusters')
      .send({ name: fresh, properties: { ...SASL, 'sasl.username': 'a', 'sasl.password': '***' } })
      .expect(400);
    expect(created.body.message).toContain(`property 'sasl.password' is "***"`);
    expect(await db.getRepository(KafkaClusterEntity).existsBy({ name: fresh })).toBe(false);
  });

  it('PATCH /subscriptions/{id} with the options a response showed keeps the secrets', async () => {
    const created = await request(t.http)
      .post('/subscriptions')
      .send({
        source: `kafka://local/${uniqueName('masked')}`,
        sink: 'service://Greeter/greet',
        options: { 'sasl.password': 'sub-secret', 'auto.offset.reset': 'earliest' },
      })
      .expect(201);
    const { id } = created.body as { id: string; options: Record<string, string> };
    expect(created.body.options['sasl.password']).toBe('***');

    await request(t.http)
      .patch(`/subscriptions/${id}`)
      .send({ options: { ...created.body.options, 'auto.offset.reset': 'latest' } })
      .expect(200);
    const row = await db.getRepository(SubscriptionEntity).findOneByOrFail({ id });
    expect(row.options).toEqual({
      'sasl.password': 'sub-secret',
      'auto.offset.reset': 'latest',
      'group.id': id,
      'client.id': 'restate',
    });

    const res = await request(t.http)
      .patch(`/subscriptions/${id}`)
      .send({ options: { ...created.body.options, 'ssl.key.password': '***' } })
      .expect(400);
    expect(res.body.message).toBe(
      `Invalid subscription options: option 'ssl.key.password' is "***", the mask responses show instead of a secret, but there is no stored value of 'ssl.key.password' to keep; send the real value`,
    );
    expect((await db.getRepository(SubscriptionEntity).findOneByOrFail({ id })).options).toEqual(
      row.options,
    );
  });
});
