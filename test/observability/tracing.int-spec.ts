import '../support/restate-polyfill';
import * as restate from '@restatedev/restate-sdk';
import * as t from '@tributary/sdk';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { OtlpReceiver, ReceivedSpan } from '../support/otlp-receiver';
import { Pipeline } from '../support/pipeline';
import { RunningEndpoint, startHttp2Endpoint } from '../support/restate-sdk-servers';

/**
 * Traces end to end: the three apps run as processes with `[tracing]` on, exporting to an OTLP
 * receiver in this test; a record produced with a `traceparent` must give, in that one trace, the
 * worker's span, a span per attempt and per handler call, and the handler must get the call's
 * context (in the request headers for `@tributary/sdk`, in the HTTP headers for Restate's SDK).
 * The apps log JSON lines: the invoker's line about the failed attempt carries the trace id.
 */
jest.setTimeout(180_000);

/** The `traceparent` each handler got, per attempt, in order. */
const seen: { sdk: string[]; restate: { attempt: string[]; input: string[] } } = {
  sdk: [],
  restate: { attempt: [], input: [] },
};

const traced = t.service({
  name: 'Traced',
  handlers: {
    work: async (ctx: t.Context) => {
      seen.sdk.push(ctx.request().headers.get('traceparent') ?? '');
      if (ctx.request().attemptNumber === 1) throw new Error('first attempt fails on purpose');
      return 'ok';
    },
  },
});

const restateTraced = restate.service({
  name: 'RestateTraced',
  handlers: {
    work: async (ctx: restate.Context) => {
      const attempt = ctx.request().attemptHeaders.get('traceparent');
      seen.restate.attempt.push(typeof attempt === 'string' ? attempt : '');
      seen.restate.input.push(ctx.request().headers.get('traceparent') ?? '');
      return 'ok';
    },
  },
});

const hex = (bytes: number) =>
  Array.from({ length: bytes }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');

describe('tracing: one trace per record, worker to handler', () => {
  const kafka = testKafka();
  let receiver: OtlpReceiver;
  let pipeline: Pipeline;
  let sdkEndpoint: t.RunningEndpoint;
  let restateEndpoint: RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  const savedDelay = process.env.OTEL_BSP_SCHEDULE_DELAY;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    // The apps inherit it: spans are exported within 100 ms rather than 5 s.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    sdkEndpoint = await t.serve({ services: [traced], port: 0 });
    restateEndpoint = await startHttp2Endpoint(
      restate
        .endpoint()
        .bind(restateTraced)
        .setLogger(() => undefined)
        .http2Handler(),
    );
    pipeline = await Pipeline.start('tracing', {
      extraConfig: [
        '[tracing]',
        'enabled = true',
        `endpoint = "${receiver.url}"`,
        '[log]',
        'format = "json"',
        'level = "debug"',
        '[invocation.default-retry-policy]',
        'initial-interval = "100ms"',
      ],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    for (const uri of [sdkEndpoint.url, restateEndpoint.url]) {
      const res = await pipeline.admin('POST', '/deployments', { uri });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    if (savedDelay === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    else process.env.OTEL_BSP_SCHEDULE_DELAY = savedDelay;
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await sdkEndpoint?.close();
    await restateEndpoint?.close();
    await receiver?.close();
  });

  async function subscribe(sink: string) {
    const topic = uniqueName('traced');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest', 'group.id': uniqueName('traced-group') },
    });
    expect(res.status).toBe(201);
    return { topic, sub: res.body.id as string, group: res.body.options['group.id'] as string };
  }

  /** Produces one record with a fresh `traceparent`; resolves with the trace and parent ids. */
  async function produceTraced(topic: string) {
    const traceId = hex(16);
    const parentId = hex(8);
    await producer.send(topic, [
      {
        key: 'k1',
        value: JSON.stringify({ n: 1 }),
        headers: { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=on' },
      },
    ]);
    return { traceId, parentId };
  }

  const completedRow = (sub: string) =>
    waitFor(
      async () => {
        const rows = await pipeline.ds
          .getRepository(InvocationEntity)
          .findBy({ subscriptionId: sub });
        return rows.length === 1 && rows[0].status === 'completed' ? rows[0] : undefined;
      },
      `the invocation of ${sub} to complete\n${pipeline.outputs()}`,
      60_000,
      200,
    );

  /** Waits until the trace holds spans matching every predicate; says what arrived if not. */
  const spansOf = async (traceId: string, want: Record<string, (s: ReceivedSpan[]) => boolean>) => {
    try {
      return await waitFor(
        async () => {
          const spans = receiver.inTrace(traceId);
          return Object.values(want).every((ok) => ok(spans)) ? spans : undefined;
        },
        `spans of trace ${traceId} (${Object.keys(want).join(', ')})`,
        30_000,
        100,
      );
    } catch (err) {
      const got = receiver
        .inTrace(traceId)
        .map((s) => [s.service, s.name, s.spanId, s.parentSpanId]);
      throw new Error(
        `${String(err)}; received: ${JSON.stringify(got)}; refused: ${receiver.refused.join(', ')}\n${pipeline.outputs()}`,
      );
    }
  };

  it('links a @tributary/sdk record: worker span, two attempts, two calls, handler gets the call context', async () => {
    const { topic, sub, group } = await subscribe('service://Traced/work');
    const { traceId, parentId } = await produceTraced(topic);
    const row = await completedRow(sub);
    expect(row.retryCount).toBe(1);

    const byName = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
    const spans = await spansOf(traceId, {
      worker: (s) => byName(s, `process ${topic}`).length === 1,
      attempts: (s) => byName(s, 'attempt Traced/work').length === 2,
      calls: (s) => byName(s, 'call Traced/work').length === 2,
    });

    const [worker] = byName(spans, `process ${topic}`);
    expect(worker.service).toBe('tributary-consumer-worker');
    expect(worker.parentSpanId).toBe(parentId);
    expect(worker.kind).toBe(5); // consumer
    expect(worker.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': topic,
      'messaging.consumer.group.name': group,
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': 0,
      'messaging.operation.type': 'process',
      'tributary.invocation.id': row.id,
      'tributary.subscription.id': sub,
      'tributary.service': 'Traced',
      'tributary.handler': 'work',
    });

    const attempts = byName(spans, 'attempt Traced/work').sort(
      (a, b) =>
        Number(a.attributes['tributary.attempt']) - Number(b.attributes['tributary.attempt']),
    );
    for (const [i, attempt] of attempts.entries()) {
      expect(attempt.service).toBe('tributary-invoker');
      expect(attempt.parentSpanId).toBe(worker.spanId);
      expect(attempt.attributes).toMatchObject({
        'tributary.invocation.id': row.id,
        'tributary.service': 'Traced',
        'tributary.handler': 'work',
        'tributary.attempt': i + 1,
        'tributary.retry_count': i,
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': '0',
        'messaging.kafka.offset': 0,
        'tributary.subscription.id': sub,
      });
    }
    expect(attempts[0].attributes).toMatchObject({
      'tributary.attempt.outcome': 'retryable',
      'tributary.invocation.status': 'backing-off',
    });
    expect(attempts[0].status.code).toBe(2); // error
    expect(attempts[0].status.message).toContain('first attempt fails on purpose');
    expect(attempts[1].attributes).toMatchObject({
      'tributary.attempt.outcome': 'success',
      'tributary.invocation.status': 'completed',
    });

    const calls = byName(spans, 'call Traced/work');
    for (const [i, attempt] of attempts.entries()) {
      const call = calls.find((c) => c.parentSpanId === attempt.spanId);
      expect(call).toBeDefined();
      expect(call?.kind).toBe(3); // client
      expect(call?.attributes['tributary.handler.protocol']).toBe('tributary');
      // The handler got the call span's context, and the record's tracestate with it.
      expect(seen.sdk[i]).toBe(`00-${traceId}-${call?.spanId}-01`);
    }

    // The invoker's JSON log line about the failed attempt names the invocation and its trace.
    const invoker = pipeline.app('invoker-0').process.output();
    const lines = invoker.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`an invoker output line is not JSON: ${l}`);
      }
    });
    expect(parsed.find((l) => l.invocationId === row.id)).toMatchObject({
      level: 'debug',
      app: 'invoker',
      context: 'executor',
      subscriptionId: sub,
      topic,
      partition: 0,
      offset: '0',
      traceId,
    });

    // One span serves many records (the batch sent to the bus, the insert): linked, not parent.
    const sent = await waitFor(
      async () =>
        receiver.spans.find((s) =>
          s.links.some((l) => l.spanId === worker.spanId && s.name.startsWith('send ')),
        ),
      'the bus send span linked to the worker span',
      30_000,
      100,
    );
    expect(sent.traceId).not.toBe(traceId);
    const inserted = await waitFor(
      async () =>
        receiver.spans.find(
          (s) => s.name === 'insert invocations' && s.links.some((l) => l.spanId === worker.spanId),
        ),
      'the insert span linked to the worker span',
      30_000,
      100,
    );
    expect(inserted.service).toBe('tributary-invoker');
  });

  it('gives a Restate SDK handler the call context in its attempt headers', async () => {
    const { topic, sub } = await subscribe('service://RestateTraced/work');
    const { traceId } = await produceTraced(topic);
    await completedRow(sub);
    const spans = await spansOf(traceId, {
      call: (s) => s.some((x) => x.name === 'call RestateTraced/work'),
      attempt: (s) => s.some((x) => x.name === 'attempt RestateTraced/work'),
    });
    const call = spans.find((s) => s.name === 'call RestateTraced/work');
    const attempt = spans.find((s) => s.name === 'attempt RestateTraced/work');
    expect(call?.parentSpanId).toBe(attempt?.spanId);
    expect(call?.attributes['tributary.handler.protocol']).toBe('restate');
    expect(seen.restate.attempt).toEqual([`00-${traceId}-${call?.spanId}-01`]);
    // The input headers keep the record's own headers (the worker's span context).
    expect(seen.restate.input[0]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });
  it('starts a new trace for a record without a traceparent, and the invoker joins it', async () => {
    const { topic, sub } = await subscribe('service://Traced/work');
    await producer.send(topic, [{ key: 'k2', value: JSON.stringify({ n: 2 }) }]);
    const row = await completedRow(sub);
    const worker = await waitFor(
      async () =>
        receiver.spans.find(
          (s) =>
            s.name === `process ${topic}` && s.attributes['tributary.invocation.id'] === row.id,
        ),
      `the worker span of ${row.id}`,
      30_000,
      100,
    );
    expect(worker.parentSpanId).toBe('');
    const spans = await spansOf(worker.traceId, {
      attempts: (x) => x.filter((s) => s.name === 'attempt Traced/work').length === 2,
      calls: (x) => x.filter((s) => s.name === 'call Traced/work').length === 2,
    });
    for (const a of spans.filter((s) => s.name === 'attempt Traced/work')) {
      expect(a.parentSpanId).toBe(worker.spanId);
    }
    const lastCall = spans
      .filter((s) => s.name === 'call Traced/work')
      .find((c) => seen.sdk.at(-1) === `00-${worker.traceId}-${c.spanId}-01`);
    expect(lastCall).toBeDefined();
  });
});
