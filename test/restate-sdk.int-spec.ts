import './support/restate-polyfill';
import * as restate from '@restatedev/restate-sdk';
import { cart } from '../examples/restate/cart';
import { InvocationEntity } from '../libs/shared/src/database/entities';
import { invocationIdForRecord } from '../libs/shared/src/ids/ids';
import type { OutgoingRecord } from '../libs/shared/src/kafka/kafka.types';
import { KafkajsAdmin, KafkajsProducer } from '../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from './support/kafka';
import { Pipeline } from './support/pipeline';
import { RunningEndpoint, startHttp2Endpoint } from './support/restate-sdk-servers';

/**
 * Services written with Restate's own SDK, unchanged, run by Tributary from Kafka records: the
 * admin API discovers them over HTTP/2, the invoker speaks Restate's service protocol to them.
 */
jest.setTimeout(180_000);

/** `ctx.run` closures that actually ran, per invocation id. */
const runs = new Map<string, number>();

/** Where `Tally/slow` waits after its `ctx.run`, until the test lets it go. */
const gate = { entered: 0, open: false, waiting: [] as (() => void)[] };
function passGate(): Promise<void> {
  gate.entered += 1;
  return gate.open ? Promise.resolve() : new Promise((r) => gate.waiting.push(r));
}

const tally = restate.object({
  name: 'Tally',
  handlers: {
    add: async (ctx: restate.ObjectContext, input: { n: number }) => {
      const count = ((await ctx.get<number>('count')) ?? 0) + 1;
      ctx.set('count', count);
      const seen = (await ctx.get<number[]>('seen')) ?? [];
      ctx.set('seen', [...seen, input.n]);
      const id = ctx.request().id;
      const stamp = await ctx.run('side effect', () => {
        runs.set(id, (runs.get(id) ?? 0) + 1);
        return input.n * 10;
      });
      return { count, stamp, offset: ctx.request().headers.get('kafka.offset') ?? null };
    },
    slow: async (ctx: restate.ObjectContext) => {
      const id = ctx.request().id;
      const stamp = await ctx.run('once', () => {
        runs.set(id, (runs.get(id) ?? 0) + 1);
        return 7;
      });
      await passGate();
      return stamp;
    },
    refuse: async (ctx: restate.ObjectContext) => {
      ctx.set('touched', true);
      throw new restate.TerminalError('not this one', { errorCode: 422 });
    },
  },
});

const later = restate.service({
  name: 'Later',
  handlers: {
    once: async (ctx: restate.Context) => {
      await ctx.run('not yet', () => {
        throw new restate.RetryableError('not yet', { retryAfter: 120_000 });
      });
      return 'done';
    },
  },
});

const sleepy = restate.service({
  name: 'Sleepy',
  handlers: {
    nap: async (ctx: restate.Context) => {
      await ctx.attach(restate.InvocationIdParser.fromString(ctx.request().id));
      return 'rested';
    },
  },
});

describe('Restate SDK services run unchanged (real Kafka, Postgres, processes and SDK)', () => {
  const kafka = testKafka();
  let pipeline: Pipeline;
  let endpoint: RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  const invocations = () => pipeline.ds.getRepository(InvocationEntity);

  beforeAll(async () => {
    endpoint = await startHttp2Endpoint(
      restate
        .endpoint()
        .bind(tally)
        .bind(sleepy)
        .bind(cart)
        .bind(later)
        .setLogger(() => undefined)
        .http2Handler(),
    );
    pipeline = await Pipeline.start('restate-sdk', {
      invokers: 2,
      extraConfig: ['[invoker]', 'lease-ttl = "3s"'],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
  });

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await endpoint?.close();
  });

  async function subscribe(sink: string) {
    const topic = uniqueName('restate-sdk');
    await admin.ensureTopics([{ topic, partitions: 2 }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest' },
    });
    expect(res.status).toBe(201);
    return { topic, sub: res.body.id as string };
  }

  const completed = (sub: string, n: number) =>
    waitFor(
      async () => {
        const rows = await invocations().findBy({ subscriptionId: sub });
        return rows.length === n && rows.every((r) => r.status === 'completed') ? rows : undefined;
      },
      `${n} completed invocations of ${sub}\n${pipeline.outputs()}`,
      60_000,
      200,
    );

  it('registers a Restate SDK endpoint served over HTTP/2 by discovering it', async () => {
    const res = await pipeline.admin('POST', '/deployments', { uri: endpoint.url });
    expect(res.status).toBe(201);
    const listed = await pipeline.admin('GET', '/deployments');
    expect(
      (listed.body.deployments as { uri: string }[]).find((d) => d.uri === endpoint.url),
    ).toMatchObject({
      service_protocol: 'restate',
      http_version: 'HTTP/2.0',
      min_protocol_version: 5,
    });
    const services = await pipeline.admin('GET', '/services');
    const byName = new Map(
      (services.body.services as { name: string; ty: string }[]).map((s) => [s.name, s.ty]),
    );
    expect(byName.get('Tally')).toBe('VirtualObject');
    expect(byName.get('Sleepy')).toBe('Service');
  });

  it('runs each record through the handler once, in key order, with state, ctx.run and the Kafka headers', async () => {
    const { topic, sub } = await subscribe('service://Tally/add');
    const records: OutgoingRecord[] = [];
    for (let n = 0; n < 6; n++) {
      records.push({ key: `k${n % 2}`, value: JSON.stringify({ n }), partition: 0 });
    }
    await producer.send(topic, records);
    const rows = await completed(sub, 6);
    for (const r of rows) expect(r.completionResult).toBe('success');
    // Each ctx.run closure ran once, though the handler suspended on it and was invoked again.
    for (const r of rows) expect(runs.get(r.id)).toBe(1);
    const outputOf = (offset: number) => {
      const id = invocationIdForRecord(sub, topic, 0, String(offset));
      return JSON.parse(rows.find((r) => r.id === id)!.output!.toString()) as unknown;
    };
    expect(outputOf(4)).toEqual({ count: 3, stamp: 40, offset: '4' });
    expect(outputOf(5)).toEqual({ count: 3, stamp: 50, offset: '5' });
    const state: { object_key: string; state_key: string; value: Buffer }[] =
      await pipeline.ds.query(
        `SELECT object_key, state_key, value FROM object_state WHERE service_name = 'Tally' ORDER BY 1, 2`,
      );
    const value = (key: string, name: string): unknown =>
      JSON.parse(state.find((s) => s.object_key === key && s.state_key === name)!.value.toString());
    expect(value('k0', 'count')).toBe(3);
    expect(value('k0', 'seen')).toEqual([0, 2, 4]);
    expect(value('k1', 'seen')).toEqual([1, 3, 5]);
  });

  it("ends on a TerminalError at once, failed, with the handler's state changes applied", async () => {
    const { topic, sub } = await subscribe('service://Tally/refuse');
    await producer.send(topic, [{ key: 'r', value: '{}', partition: 0 }]);
    const [row] = await completed(sub, 1);
    expect(row).toMatchObject({
      completionResult: 'failure',
      completionFailure: 'not this one',
      lastFailureCode: 422,
      retryCount: 0,
    });
    const [touched] = await pipeline.ds.query(
      `SELECT value FROM object_state WHERE service_name = 'Tally' AND object_key = 'r' AND state_key = 'touched'`,
    );
    expect(JSON.parse((touched as { value: Buffer }).value.toString())).toBe(true);
  });

  it('never runs a recorded ctx.run again, though the invoker running it is SIGKILLed after it', async () => {
    const { topic, sub } = await subscribe('service://Tally/slow');
    await producer.send(topic, [{ key: 'once', value: '{}', partition: 0 }]);
    await waitFor(() => gate.entered >= 1, 'the handler to pass its ctx.run and wait');
    const [row] = await invocations().findBy({ subscriptionId: sub });
    expect(runs.get(row.id)).toBe(1);
    const journal: { n: number }[] = await pipeline.ds.query(
      `SELECT count(*)::int AS n FROM invocation_journal WHERE id = $1`,
      [row.id],
    );
    expect(journal[0].n).toBeGreaterThanOrEqual(2); // the RunCommand and its completion
    const owner = (await invocations().findOneByOrFail({ id: row.id })).leaseOwner!;
    const victim = pipeline.app(owner);
    victim.process.kill('SIGKILL');
    await victim.process.exited;
    gate.open = true;
    for (const release of gate.waiting.splice(0)) release();
    const [done] = await completed(sub, 1);
    expect(done.completionResult).toBe('success');
    expect(JSON.parse(done.output!.toString())).toBe(7);
    expect(done.leaseOwner).toBeNull();
    // Run again elsewhere, from the journal: the closure ran once in all.
    expect(gate.entered).toBeGreaterThanOrEqual(2);
    expect(runs.get(row.id)).toBe(1);
    const left: { n: number }[] = await pipeline.ds.query(
      `SELECT count(*)::int AS n FROM invocation_journal WHERE id = $1`,
      [row.id],
    );
    expect(left[0].n).toBe(0);
  });

  it('runs the example written as Restate documents it (examples/restate/cart.ts)', async () => {
    const { topic, sub } = await subscribe('service://Cart/add');
    await producer.send(topic, [
      { key: 'alice', value: JSON.stringify({ sku: 'tea', quantity: 2 }), partition: 0 },
      { key: 'alice', value: JSON.stringify({ sku: 'cup', quantity: 1 }), partition: 0 },
    ]);
    const rows = await completed(sub, 2);
    const outputs = rows
      .map((r) => JSON.parse(r.output!.toString()) as { items: number; price: number })
      .sort((a, b) => a.items - b.items);
    expect(outputs).toEqual([
      { cart: 'alice', items: 1, price: 500 },
      { cart: 'alice', items: 2, price: 250 },
    ]);
  });

  it("retries after the handler's own delay (RetryableError retryAfter), not the policy's", async () => {
    const { topic, sub } = await subscribe('service://Later/once');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const row = await waitFor(async () => {
      const [r] = await invocations().findBy({ subscriptionId: sub });
      return r?.status === 'backing-off' ? r : undefined;
    }, 'the invocation to back off');
    expect(row.retryCount).toBe(1);
    expect(row.lastFailure).toContain('not yet');
    // The policy's first delay is 500 ms; the handler asked for two minutes.
    const delay = row.nextRetryAt!.getTime() - row.modifiedAt.getTime();
    expect(delay).toBeGreaterThan(100_000);
    expect((await pipeline.admin('PATCH', `/invocations/${row.id}/kill`)).status).toBeLessThan(300);
  });

  it('fails what it does not support yet with a terminal error that names it; nothing hangs', async () => {
    const { topic, sub } = await subscribe('service://Sleepy/nap');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const [row] = await completed(sub, 1);
    expect(row.completionResult).toBe('failure');
    expect(row.completionFailure).toMatch(
      /^AttachInvocationCommand \(attaching to an invocation\) is not supported by Tributary yet/,
    );
  });
});
