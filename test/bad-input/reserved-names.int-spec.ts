import request from 'supertest';
import { DataSource } from 'typeorm';
import { KafkaClusterEntity, SubscriptionEntity } from '../../libs/shared/src/database/entities';
import { AdminTestApp, startAdminApi } from '../support/admin-app';
import { registerService } from '../support/fixtures';
import { uniqueName } from '../support/kafka';

/**
 * Tributary's own topics and consumer groups are not for subscriptions: reading the invocation
 * bus would feed invocation commands back in as invocations, dead-lettering into it would mix
 * failed records with them, and joining the invokers' group would take bus partitions away from
 * the invokers. The admin API refuses them, on create and on PATCH, saying why, and stores nothing.
 */
describe('reserved topics and consumer groups (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let db: DataSource;
  let prefix: string;
  let busTopic: string;
  let invokerGroup: string;

  const rows = () => db.getRepository(SubscriptionEntity).count();
  const create = (body: object) => request(t.http).post('/subscriptions').send(body);
  const expectRefused = (res: request.Response, message: string) => {
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message, restate_code: null });
  };

  beforeAll(async () => {
    t = await startAdminApi('reserved-names');
    db = t.app.get(DataSource);
    prefix = t.config.bus.topicPrefix;
    busTopic = `${prefix}.invocations.v1`;
    invokerGroup = `${busTopic}.invokers`;
    await registerService(db, 'Greeter', 'SERVICE', { greet: null });
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('source topics', () => {
    it('refuses the invocation bus topic, saying why', async () => {
      const before = await rows();
      const res = await create({
        source: `kafka://local/${busTopic}`,
        sink: 'service://Greeter/greet',
      });
      expectRefused(
        res,
        `Invalid subscription source 'kafka://local/${busTopic}': topic '${busTopic}' is Tributary's own invocation bus (bus.topic-prefix = "${prefix}"); subscribing to it would feed invocation commands, and invocations would feed back into themselves`,
      );
      expect(await rows()).toBe(before);
    });

    it.each(['__consumer_offsets', '__transaction_state', '__any_internal'])(
      'refuses %s, a Kafka internal topic',
      async (topic) => {
        const res = await create({
          source: `kafka://local/${topic}`,
          sink: 'service://Greeter/greet',
        });
        expect(res.status).toBe(400);
        expect(res.body.message).toContain(`topic '${topic}' is internal to Kafka`);
      },
    );

    it('refuses any topic under the bus topic prefix', async () => {
      const topic = `${prefix}.invocations.v2`;
      const res = await create({
        source: `kafka://local/${topic}`,
        sink: 'service://Greeter/greet',
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(
        `topic '${topic}' is under '${prefix}.', the prefix of Tributary's own bus topics`,
      );
    });
  });

  describe('dead-letter topics', () => {
    it('refuses the bus topic as a dead-letter topic, on create and on PATCH', async () => {
      const topic = uniqueName('reserved-dlt');
      const why = `option 'tributary.dead-letter-topic': topic '${busTopic}' is Tributary's own invocation bus (bus.topic-prefix = "${prefix}"); dead-lettering into it would write failed records among invocation commands, and invocations would feed back into themselves`;
      const refused = await create({
        source: `kafka://local/${topic}`,
        sink: 'service://Greeter/greet',
        options: { 'tributary.dead-letter-topic': busTopic },
      });
      expectRefused(refused, `Invalid subscription options: ${why}`);

      const created = await create({
        source: `kafka://local/${topic}`,
        sink: 'service://Greeter/greet',
        options: { 'tributary.dead-letter-topic': `${topic}-dlt` },
      }).expect(201);
      const patched = await request(t.http)
        .patch(`/subscriptions/${created.body.id}`)
        .send({ options: { 'tributary.dead-letter-topic': busTopic } });
      expectRefused(patched, `Invalid subscription options: ${why}`);
      const row = await db
        .getRepository(SubscriptionEntity)
        .findOneByOrFail({ id: created.body.id as string });
      expect(row.deadLetterTopic).toBe(`${topic}-dlt`);

      const internal = await request(t.http)
        .patch(`/subscriptions/${created.body.id}`)
        .send({ options: { 'tributary.dead-letter-topic': '__consumer_offsets' } });
      expect(internal.status).toBe(400);
      expect(internal.body.message).toContain("topic '__consumer_offsets' is internal to Kafka");
    });
  });

  describe('consumer groups', () => {
    it("refuses the invokers' group as group.id, on create and on PATCH", async () => {
      const topic = uniqueName('reserved-group');
      const why = `group.id '${invokerGroup}' is the consumer group of Tributary's invokers (bus.topic-prefix = "${prefix}"); a subscription joining it would take bus partitions away from the invokers, and the invocations of every subscription on those partitions would stop`;
      const before = await rows();
      const refused = await create({
        source: `kafka://local/${topic}`,
        sink: 'service://Greeter/greet',
        options: { 'group.id': invokerGroup },
      });
      expectRefused(refused, `Invalid subscription options: ${why}`);
      expect(await rows()).toBe(before);

      const created = await create({
        source: `kafka://local/${topic}`,
        sink: 'service://Greeter/greet',
      }).expect(201);
      const patched = await request(t.http)
        .patch(`/subscriptions/${created.body.id}`)
        .send({ options: { 'group.id': invokerGroup } });
      expectRefused(patched, `Invalid subscription options: ${why}`);
      const row = await db
        .getRepository(SubscriptionEntity)
        .findOneByOrFail({ id: created.body.id as string });
      expect(row.options['group.id']).toBe(created.body.id);
    });

    it('refuses any group.id under <prefix>.invocations', async () => {
      const res = await create({
        source: `kafka://local/${uniqueName('reserved-group')}`,
        sink: 'service://Greeter/greet',
        options: { 'group.id': `${prefix}.invocations.v2.invokers` },
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(
        `starts with '${prefix}.invocations', reserved for Tributary's internal consumer groups`,
      );
    });

    it("refuses the invokers' group in a cluster's properties (every subscription's default)", async () => {
      const name = uniqueName('reserved-cluster');
      const res = await request(t.http)
        .post('/kafka-clusters')
        .send({
          name,
          properties: { 'bootstrap.servers': '127.0.0.1:9092', 'group.id': invokerGroup },
        });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(`invalid properties for kafka cluster '${name}': `);
      expect(res.body.message).toContain(`is the consumer group of Tributary's invokers`);
      expect(await db.getRepository(KafkaClusterEntity).existsBy({ name })).toBe(false);
    });
  });
});
