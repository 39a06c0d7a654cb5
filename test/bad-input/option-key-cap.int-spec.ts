import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { KafkaClusterEntity, SubscriptionEntity } from '../../libs/shared/src/database/entities';
import { AdminTestApp, startAdminApi } from '../support/admin-app';
import { uniqueName } from '../support/kafka';

const KEYS = 40_000;

/** `{"x.0":"v","x.1":"v",...}`: about 500 KB, under the admin API's 1 MiB body limit. */
function manyKeys(): Record<string, string> {
  return Object.fromEntries(Array.from({ length: KEYS }, (_, i) => [`x.${i}`, 'v']));
}

/**
 * One request with tens of thousands of option keys must not hold the admin API's event loop:
 * validation used to cost milliseconds per unknown key (a typo search against every librdkafka
 * key) plus a quadratic merge, so 40,000 keys stalled every request, /health included, for
 * minutes (and copying the body for validation took most of a second more). Now an object of more
 * than 256 keys is refused before the body is copied or validated. Each big request is sent
 * while /health is polled on the same server: the big one gets its 400 naming the cap, and
 * /health keeps answering 200 meanwhile. (The jest timeout below only guards against a hang.)
 */
describe('option and property key cap (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let base: string;

  beforeAll(async () => {
    t = await startAdminApi('option-key-cap');
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Sends `method path body` while polling /health; the big answer and every /health status. */
  async function sendWhilePollingHealth(method: string, path: string, body: unknown) {
    let done = false;
    const big = fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (res) => {
      const answer = { status: res.status, body: (await res.json()) as { message: string } };
      done = true;
      return answer;
    });
    const health: number[] = [];
    // At least one /health round trip, and more for as long as the big request is in flight.
    do {
      health.push((await fetch(`${base}/health`)).status);
    } while (!done);
    return { answer: await big, health };
  }

  it('POST /subscriptions with 40,000 option keys: 400 naming the cap, /health unaffected', async () => {
    const { answer, health } = await sendWhilePollingHealth('POST', '/subscriptions', {
      source: `kafka://local/${uniqueName('key-cap')}`,
      sink: 'service://Greeter/greet',
      options: manyKeys(),
    });
    expect(answer).toEqual({
      status: 400,
      body: {
        message: `Invalid request body: options has ${KEYS} keys, at most 256 are accepted (librdkafka itself has about 250 properties)`,
        restate_code: null,
      },
    });
    expect(health.every((s) => s === 200)).toBe(true);
    expect(await t.app.get(DataSource).getRepository(SubscriptionEntity).count()).toBe(0);
  }, 30_000);

  it('POST /kafka-clusters with 40,000 property keys: 400 naming the cap, /health unaffected', async () => {
    const name = uniqueName('key-cap');
    const { answer, health } = await sendWhilePollingHealth('POST', '/kafka-clusters', {
      name,
      properties: { 'bootstrap.servers': '127.0.0.1:9092', ...manyKeys() },
    });
    expect(answer).toEqual({
      status: 400,
      body: {
        message: `Invalid request body: properties has ${KEYS + 1} keys, at most 256 are accepted (librdkafka itself has about 250 properties)`,
        restate_code: null,
      },
    });
    expect(health.every((s) => s === 200)).toBe(true);
    expect(await t.app.get(DataSource).getRepository(KafkaClusterEntity).existsBy({ name })).toBe(
      false,
    );
  }, 30_000);

  it('PATCH /kafka-clusters/{name} with 40,000 property keys: 400 naming the cap', async () => {
    const name = uniqueName('key-cap');
    const created = await fetch(`${base}/kafka-clusters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, properties: { 'bootstrap.servers': '127.0.0.1:9092' } }),
    });
    expect(created.status).toBe(201);
    const { answer, health } = await sendWhilePollingHealth('PATCH', `/kafka-clusters/${name}`, {
      properties: manyKeys(),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toBe(
      `Invalid request body: properties has ${KEYS} keys, at most 256 are accepted (librdkafka itself has about 250 properties)`,
    );
    expect(health.every((s) => s === 200)).toBe(true);
  }, 30_000);

  it('still accepts 256 keys, and reports unknown ones in a bounded message', async () => {
    const name = uniqueName('key-cap');
    const properties = Object.fromEntries([
      ['bootstrap.servers', '127.0.0.1:9092'],
      ...Array.from({ length: 255 }, (_, i) => [`x.${i}`, 'v']),
    ]);
    const res = await fetch(`${base}/kafka-clusters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, properties }),
    });
    const body = (await res.json()) as { message: string };
    expect(res.status).toBe(400);
    expect(body.message).toContain(
      `invalid properties for kafka cluster '${name}': unknown option 'x.0': not a librdkafka configuration property`,
    );
    expect(body.message).toMatch(/; and 235 more errors not listed$/);
  });
});
