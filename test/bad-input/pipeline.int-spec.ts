import { randomBytes } from 'node:crypto';
import * as t from '@tributary/sdk';
import { InvocationEntity, InvocationPayloadEntity } from '../../libs/shared/src/database/entities';
import { invocationIdForRecord } from '../../libs/shared/src/ids/ids';
import type { OutgoingRecord } from '../../libs/shared/src/kafka/kafka.types';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';

/**
 * Issue 7, part 2: bad records through the real apps (admin API, a worker, an invoker as
 * processes). Each bad record gets a failed invocation with a readable failure, or the documented
 * behaviour; the good records around it run as if it were not there. See README.md here.
 */
jest.setTimeout(180_000);

const MAX_RECORD_BYTES = 4096;

/** What a handler was given, in the order it ran. */
interface Seen {
  id: string;
  key: string;
  input: unknown;
  headers: Record<string, string>;
  rawHeaders: Record<string, string>;
}

function seenBy(ctx: t.ObjectContext, input: unknown): Seen {
  const request = ctx.request();
  return {
    id: request.id,
    key: ctx.key,
    input,
    headers: Object.fromEntries(request.headers),
    rawHeaders: Object.fromEntries(
      [...request.rawHeaders].map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
  };
}

/** A gate the `Doomed` handler waits at for the record with `n: 1`. */
class Gate {
  private opened = false;
  private waiting: (() => void)[] = [];
  reached = false;

  wait(): Promise<void> {
    this.reached = true;
    return this.opened ? Promise.resolve() : new Promise((r) => this.waiting.push(r));
  }

  open(): void {
    this.opened = true;
    for (const w of this.waiting.splice(0)) w();
  }
}

describe('pipeline against bad records (real Kafka, Postgres and processes)', () => {
  const kafka = testKafka();
  const seen: Seen[] = [];
  const doomedSeen: Seen[] = [];
  const gate = new Gate();
  let pipeline: Pipeline;
  let endpoint: t.RunningEndpoint;
  let doomedEndpoint: t.RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;

  const invocations = () => pipeline.ds.getRepository(InvocationEntity);
  const payloadOf = (id: string) =>
    pipeline.ds.getRepository(InvocationPayloadEntity).findOneByOrFail({ id });

  /** A one-partition topic and a subscription reading it from the start. */
  async function subscribe(sink: string, options: Record<string, string> = {}) {
    const topic = uniqueName('bad-records');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest', ...options },
    });
    expect(res.status).toBe(201);
    return { topic, sub: res.body.id as string };
  }

  /** The invocation of each offset once all of `offsets` exist and satisfy `done`. */
  async function rowsAt(
    sub: string,
    topic: string,
    offsets: number[],
    done: (row: InvocationEntity) => boolean,
    what: string,
  ): Promise<Map<number, InvocationEntity>> {
    const ids = new Map(offsets.map((o) => [invocationIdForRecord(sub, topic, 0, String(o)), o]));
    let last: InvocationEntity[] = [];
    try {
      return await waitFor(
        async () => {
          const rows = await invocations().findBy({ subscriptionId: sub });
          last = rows.filter((r) => ids.has(r.id));
          if (last.length !== offsets.length || !last.every(done)) return undefined;
          return new Map(last.map((r) => [ids.get(r.id)!, r]));
        },
        what,
        60_000,
        200,
      );
    } catch (err) {
      const states = last.map(
        (r) =>
          `offset ${ids.get(r.id)}: ${r.status} ${r.completionResult ?? ''} ${r.lastFailure ?? ''}`,
      );
      throw new Error(`${String(err)}\n${states.join('\n')}\n${pipeline.outputs()}`);
    }
  }

  beforeAll(async () => {
    endpoint = await t.serve({
      services: [
        t.object({
          name: 'BadIn',
          handlers: {
            record: async (ctx: t.ObjectContext, input: unknown) => {
              seen.push(seenBy(ctx, input));
              return { got: input ?? null };
            },
          },
        }),
      ],
      port: 0,
    });
    doomedEndpoint = await t.serve({
      services: [
        t.object({
          name: 'Doomed',
          handlers: {
            run: async (ctx: t.ObjectContext, input: { n: number }) => {
              doomedSeen.push(seenBy(ctx, input));
              if (input.n === 1) await gate.wait();
              return input.n;
            },
          },
        }),
      ],
      port: 0,
    });
    pipeline = await Pipeline.start('bad-records', {
      extraConfig: ['[worker]', `max-record-bytes = ${MAX_RECORD_BYTES}`],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    for (const { url } of [endpoint, doomedEndpoint]) {
      expect((await pipeline.admin('POST', '/deployments', { uri: url })).status).toBe(201);
    }
  });

  afterAll(async () => {
    gate.open();
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await endpoint?.close();
    await doomedEndpoint?.close();
  });

  it('fails each bad record on its own, readably, and runs the good ones around it in key order', async () => {
    const { topic, sub } = await subscribe('service://BadIn/record');
    const good = (key: string, n: number): OutgoingRecord => ({
      key,
      value: JSON.stringify({ n }),
    });
    const records: OutgoingRecord[] = [
      good('a', 0),
      { key: Buffer.from([0xff, 0xfe, 0x41]), value: JSON.stringify({ n: 1 }) }, // 1 invalid UTF-8 key
      good('a', 2),
      { key: null, value: JSON.stringify({ n: 3 }) }, // 3 null key
      good('b', 4),
      { key: 'a', value: 'not json {' }, // 5 not JSON
      good('a', 6),
      { key: 'a', value: Buffer.alloc(0) }, // 7 empty value
      { key: 'a', value: null }, // 8 null value (tombstone)
      good('a', 9),
      { key: 'a', value: JSON.stringify({ pad: 'x'.repeat(MAX_RECORD_BYTES) }) }, // 10 too big
      good('a', 11),
      {
        key: 'b',
        value: JSON.stringify({ n: 12 }),
        headers: { bin: Buffer.from([0xff, 0x00, 0xfe]), text: 'hello', traceparent: '00-1-2-01' },
      }, // 12 binary header value
      { key: 'b', value: Buffer.from([0xff, 0xfe, 0x7b]) }, // 13 value not UTF-8
      good('b', 14),
      good('', 15), // the same object as the null key
    ];
    await producer.send(topic, records);
    const rows = await rowsAt(
      sub,
      topic,
      records.map((_, offset) => offset),
      (r) => r.status === 'completed',
      `${records.length} completed invocations`,
    );
    const at = (offset: number) => rows.get(offset)!;
    const ran = (offset: number) => seen.filter((s) => s.id === at(offset).id);

    // The good records, and the documented ones that run (null key, empty and null values,
    // binary headers): success on the first attempt, once each, in key order.
    const succeeded = [0, 2, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15];
    for (const offset of succeeded) {
      expect({
        offset,
        result: at(offset).completionResult,
        retries: at(offset).retryCount,
      }).toEqual({ offset, result: 'success', retries: 0 });
      expect(ran(offset)).toHaveLength(1);
    }
    const order = (key: string) =>
      seen.filter((s) => s.key === key).map((s) => (s.input as { n?: number } | undefined)?.n);
    expect(order('a')).toEqual([0, 2, 6, undefined, undefined, 9, 11]);
    expect(order('b')).toEqual([4, 12, 14]);
    expect(order('')).toEqual([3, 15]);

    // Invalid UTF-8 key: failed by the worker, never delivered, and it holds no key's queue.
    expect(at(1)).toMatchObject({
      completionResult: 'failure',
      targetKey: '',
      exclusive: false,
      lastFailure:
        'The Kafka record key must be valid UTF-8 to address a virtual object: key bytes (base64) //5B',
      completionFailure:
        'The Kafka record key must be valid UTF-8 to address a virtual object: key bytes (base64) //5B',
    });
    expect((await payloadOf(at(1).id)).input?.toString()).toBe('{"n":1}');
    // Null key: the object key is "".
    expect(at(3).targetKey).toBe('');
    expect(ran(3)[0].headers['kafka.key']).toBeUndefined();
    // Not JSON for a JSON handler: failed by the invoker, terminally, without a call.
    for (const offset of [5, 13]) {
      expect(at(offset)).toMatchObject({
        completionResult: 'failure',
        retryCount: 0,
        lastFailureCode: 400,
      });
      expect(at(offset).lastFailure).toMatch(/^Cannot deserialize the input as JSON: ./);
      expect(at(offset).completionFailure).toBe(at(offset).lastFailure);
      expect(ran(offset)).toEqual([]);
    }
    expect(at(13).lastFailure).toContain('not valid for encoding utf-8');
    // Empty value and null value: the JSON handler gets undefined, and answers.
    for (const offset of [7, 8]) {
      expect(ran(offset)[0].input).toBeUndefined();
      expect(JSON.parse(at(offset).output!.toString())).toEqual({ got: null });
    }
    // Too big: failed by the worker, payload dropped, never delivered.
    // Its key was valid: shown, though the invocation holds no key's queue.
    expect(at(10)).toMatchObject({ completionResult: 'failure', exclusive: false, targetKey: 'a' });
    expect((await payloadOf(at(10).id)).input).toBeNull();
    expect(at(10).lastFailure).toMatch(
      /^record of \d+ bytes exceeds the limit of 4096 bytes \(worker\.max-record-bytes\); the payload was not stored$/,
    );
    expect(ran(10)).toEqual([]);
    // Binary header values: kept as base64 in raw_headers and handed to the handler as bytes.
    const stored12 = await payloadOf(at(12).id);
    expect(stored12.rawHeaders).toEqual({
      bin: Buffer.from([0xff, 0x00, 0xfe]).toString('base64'),
    });
    expect(stored12.headers).toMatchObject({ text: 'hello', traceparent: '00-1-2-01' });
    expect(ran(12)[0].rawHeaders).toEqual({ bin: '/wD+' });
    expect(ran(12)[0].headers).toMatchObject({ text: 'hello', 'kafka.offset': '12' });
    expect(ran(12)[0].headers.bin).toBeUndefined();

    // The admin API shows each failure as it is stored.
    const shown = await pipeline.admin('GET', `/invocations/${at(10).id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      status: 'completed',
      completion_result: 'failure',
      last_failure: at(10).lastFailure,
    });
  });

  it('stores what Postgres text cannot hold, fails what it cannot store, and holds nobody back', async () => {
    // Two subscriptions, written at once, so their commands share the invoker's inserts.
    const nul = await subscribe('service://BadIn/record');
    const other = await subscribe('service://BadIn/record');
    const good = (key: string, n: number): OutgoingRecord => ({
      key,
      value: JSON.stringify({ n }),
    });
    // Random bytes do not compress: as a key this is too long for the key queue's index.
    const unindexable = randomBytes(2_900).toString('base64');
    const records: OutgoingRecord[] = [
      { key: 'n', value: JSON.stringify({ n: 0 }), headers: { 'na\u0000me': 'x' } }, // 0
      { key: 'n', value: JSON.stringify({ n: 1 }), headers: { h: 'va\u0000lue' } }, // 1
      good('k\u0000ey', 2), // 2 a key with a NUL
      good('n', 3),
      good(unindexable, 4), // 4 a key Postgres cannot index
      good('n', 5),
    ];
    const others = [0, 1, 2, 3, 4].map((n) => good('m', n));
    await Promise.all([producer.send(nul.topic, records), producer.send(other.topic, others)]);

    const otherRows = await rowsAt(
      other.sub,
      other.topic,
      [0, 1, 2, 3, 4],
      (r) => r.status === 'completed',
      'the other subscription to complete',
    );
    for (const row of otherRows.values()) expect(row.completionResult).toBe('success');
    const rows = await rowsAt(
      nul.sub,
      nul.topic,
      records.map((_, offset) => offset),
      (r) => r.status === 'completed',
      `${records.length} completed invocations`,
    );
    const at = (offset: number) => rows.get(offset)!;
    for (const offset of [0, 1, 3, 5]) {
      expect({
        offset,
        result: at(offset).completionResult,
        failure: at(offset).lastFailure,
      }).toEqual({
        failure: null,
        offset,
        result: 'success',
      });
    }
    // Headers with NUL bytes are stored and delivered as they were.
    expect((await payloadOf(at(0).id)).headers).toMatchObject({ 'na\u0000me': 'x' });
    expect((await payloadOf(at(1).id)).headers).toMatchObject({ h: 'va\u0000lue' });
    expect(seen.find((s) => s.id === at(0).id)?.headers['na\u0000me']).toBe('x');
    expect(seen.find((s) => s.id === at(1).id)?.headers.h).toBe('va\u0000lue');
    // A key with a NUL addresses no object: failed by the worker, readably.
    expect(at(2)).toMatchObject({
      completionResult: 'failure',
      targetKey: '',
      exclusive: false,
      lastFailure: `The Kafka record key must not contain U+0000 (a NUL byte) to address a virtual object: key bytes (base64) ${Buffer.from('k\u0000ey').toString('base64')}`,
    });
    // A key Postgres refuses: failed by the invoker with Postgres' reason, the payload kept.
    expect(at(4)).toMatchObject({ completionResult: 'failure', exclusive: false });
    expect(at(4).lastFailure).toMatch(
      /^the invocation could not be stored \(index row size \d+ exceeds .*\); the record was not delivered$/,
    );
    expect((await payloadOf(at(4).id)).input?.toString()).toBe('{"n":4}');
    expect(seen.filter((s) => [2, 4].some((o) => s.id === at(o).id))).toEqual([]);
    // The key's order held around them.
    expect(
      seen
        .filter((s) => s.key === 'n' && [0, 1, 3, 5].some((o) => s.id === at(o).id))
        .map((s) => (s.input as { n: number }).n),
    ).toEqual([0, 1, 3, 5]);
  });

  it('fails records read after their deployment was removed; pauses the ones read before', async () => {
    const { topic, sub } = await subscribe('service://Doomed/run', {
      'tributary.max-attempts': '2',
    });
    const record = (n: number): OutgoingRecord => ({ key: 'k', value: JSON.stringify({ n }) });
    // Offset 0 runs and waits at the gate; 1 and 2 queue behind it on key "k".
    await producer.send(topic, [record(1), record(2), record(3)]);
    await rowsAt(
      sub,
      topic,
      [0, 1, 2],
      (r) => r.status === 'running' || r.status === 'pending',
      'the first invocation running, the others queued behind it',
    );
    await waitFor(() => gate.reached, 'the handler to hold the first record');

    const handlersBefore = (await pipeline.admin('GET', '/services')).body.services.reduce(
      (n: number, svc: { handlers: unknown[] }) => n + svc.handlers.length,
      0,
    ) as number;
    const deployments = await pipeline.admin('GET', '/deployments');
    const doomed = (deployments.body.deployments as { id: string; uri: string }[]).find(
      (d) => d.uri === doomedEndpoint.url,
    )!;
    // Refused while a subscription uses it, unless forced.
    expect((await pipeline.admin('DELETE', `/deployments/${doomed.id}`)).status).toBe(409);
    expect((await pipeline.admin('DELETE', `/deployments/${doomed.id}?force=true`)).status).toBe(
      202,
    );
    expect((await pipeline.admin('GET', `/subscriptions/${sub}`)).body.status).toBe('active');
    // The invoker caches where handlers live (reloaded every 2 s): wait until its cache no longer
    // holds the removed deployment's handler, or offset 1 would still be sent there.
    const registered = async () => {
      const text = await (await fetch(`${pipeline.app('invoker-0').url}/metrics`)).text();
      return Number(/^tributary_invoker_registered_handlers (\d+)$/m.exec(text)?.[1] ?? NaN);
    };
    await waitFor(
      async () => (await registered()) === handlersBefore - 1,
      "the invoker's registry to drop the removed handler",
    );
    // And the worker consumes the subscription knowing its handler is gone, or the records sent
    // below would be read as deliverable.
    await waitFor(async () => {
      const text = await (await fetch(`${pipeline.app('worker-0').url}/metrics`)).text();
      return text.includes(
        `tributary_worker_subscription_handler_registered{subscription="${sub}"} 0`,
      );
    }, 'the worker to consume the subscription without its handler');
    gate.open();

    const before = await rowsAt(
      sub,
      topic,
      [0, 1, 2],
      (r) => r.status === 'completed' || r.status === 'paused' || r.status === 'pending',
      'the running one to finish and the next one to pause',
    );
    await waitFor(
      async () => (await invocations().findOneBy({ id: before.get(1)!.id }))?.status === 'paused',
      'the next one to pause',
    );
    const [first, second, third] = await Promise.all(
      [0, 1, 2].map((o) => invocations().findOneByOrFail({ id: before.get(o)!.id })),
    );
    // The call in flight when the deployment went finishes normally.
    expect(first).toMatchObject({ status: 'completed', completionResult: 'success' });
    // The next one of the key is retried by the invoker, then paused after max attempts...
    expect(second).toMatchObject({
      status: 'paused',
      retryCount: 2,
      lastFailureCode: 404,
      lastFailure: "handler 'Doomed/run' is not registered (was its deployment removed?)",
    });
    // ...and, paused at the head of its key's queue, it holds the ones behind it.
    expect(third).toMatchObject({ status: 'pending', retryCount: 0, lastFailure: null });
    expect(doomedSeen.map((s) => (s.input as { n: number }).n)).toEqual([1]);

    // Records read after the removal: the worker fails each one, and nothing waits for them.
    await producer.send(topic, [record(4), record(5), record(6)]);
    const after = await rowsAt(
      sub,
      topic,
      [3, 4, 5],
      (r) => r.status === 'completed',
      'the records read after the removal to fail',
    );
    for (const offset of [3, 4, 5]) {
      expect(after.get(offset)).toMatchObject({
        completionResult: 'failure',
        exclusive: false,
        retryCount: 0,
        lastFailure:
          "handler 'Doomed/run' is not registered (was its deployment removed?); the record was not delivered",
      });
      expect((await payloadOf(after.get(offset)!.id)).input?.toString()).toBe(
        JSON.stringify({ n: offset + 1 }),
      );
    }
    expect(doomedSeen).toHaveLength(1);

    // Registering the deployment again and resuming the paused one lets the key's queue drain.
    expect((await pipeline.admin('POST', '/deployments', { uri: doomedEndpoint.url })).status).toBe(
      201,
    );
    expect((await pipeline.admin('PATCH', `/invocations/${second.id}/resume`)).status).toBe(200);
    await rowsAt(
      sub,
      topic,
      [1, 2],
      (r) => r.status === 'completed' && r.completionResult === 'success',
      'the paused one and the one behind it to run once the handler is back',
    );
    expect(doomedSeen.map((s) => (s.input as { n: number }).n)).toEqual([1, 2, 3]);
  });
});
