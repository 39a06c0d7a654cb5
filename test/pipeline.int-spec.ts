import * as t from '@tributary/sdk';
import type { Server } from 'node:http';
import { InvocationEntity } from '../libs/shared/src/database/entities';
import { invocationIdForRecord } from '../libs/shared/src/ids/ids';
import { IncomingRecord } from '../libs/shared/src/kafka/kafka.types';
import {
  KafkajsAdmin,
  KafkajsBatchConsumer,
  KafkajsProducer,
} from '../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from './support/kafka';
import { Pipeline } from './support/pipeline';
import { HandlerLog, startRawHandlers, testServices } from './support/test-handlers';

/**
 * End to end through all three apps as processes (admin API, a consumer worker, two invokers),
 * the real broker and Postgres, and handlers in this test process that record what they saw.
 */
jest.setTimeout(120_000);

describe('pipeline: records to handler invocations', () => {
  const kafka = testKafka();
  const log = new HandlerLog();
  let pipeline: Pipeline;
  let sdkEndpoint: t.RunningEndpoint;
  let rawHandlers: { server: Server; url: string };
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;

  const invocations = () => pipeline.ds.getRepository(InvocationEntity);

  /** Creates a topic and a subscription on it through the admin API. */
  const subscribe = async (sink: string, partitions = 1, options: Record<string, string> = {}) => {
    const topic = uniqueName('pipe');
    await admin.ensureTopics([{ topic, partitions }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest', ...options },
    });
    expect(res.status).toBe(201);
    return { topic, sub: res.body.id as string };
  };

  const completed = (sub: string, n: number) =>
    waitFor(
      async () => {
        const rows = await invocations().find({ where: { subscriptionId: sub } });
        return rows.length === n && rows.every((r) => r.status === 'completed') ? rows : undefined;
      },
      `${n} completed invocations of ${sub}\n${pipeline.outputs()}`,
      45_000,
      200,
    );

  beforeAll(async () => {
    sdkEndpoint = await t.serve({ services: testServices(log), port: 0 });
    rawHandlers = await startRawHandlers(log);
    pipeline = await Pipeline.start('pipeline', { invokers: 2 });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    for (const uri of [sdkEndpoint.url, rawHandlers.url]) {
      const res = await pipeline.admin('POST', '/deployments', { uri });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await producer.close();
    await admin.close();
    await pipeline.stop();
    await sdkEndpoint.close();
    await new Promise((r) => rawHandlers.server.close(r));
  });

  it('runs each key in partition order, one at a time, across two invokers and many keys', async () => {
    const { topic, sub } = await subscribe('service://Seq/record', 4);
    const keys = 100;
    const perKey = 12;
    const records = [];
    for (let i = 0; i < keys * perKey; i++) {
      const k = i % keys;
      records.push({
        key: `key-${k}`,
        value: JSON.stringify({ n: Math.floor(i / keys) }),
        partition: k % 4,
      });
    }
    await producer.send(topic, records);
    const rows = await completed(sub, keys * perKey);

    expect(rows.every((r) => r.completionResult === 'success')).toBe(true);
    expect(log.overlaps).toEqual([]);
    for (let k = 0; k < keys; k++) {
      expect(log.sequences.get(`key-${k}`)).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
    const state: { object_key: string; value: Buffer }[] = await pipeline.ds.query(
      `SELECT object_key, value FROM object_state WHERE service_name = 'Seq' AND state_key = 'count'`,
    );
    expect(state).toHaveLength(keys);
    expect(state.every((s) => JSON.parse(s.value.toString()) === perKey)).toBe(true);
    // both invokers ran some of it
    const owners = await pipeline.ds.query(
      `SELECT count(DISTINCT bus_partition)::int AS n FROM invocations WHERE subscription_id = $1`,
      [sub],
    );
    expect(owners[0].n).toBeGreaterThan(1);
  });

  it('runs service invocations in parallel', async () => {
    const { topic, sub } = await subscribe('service://Par/work', 1);
    await producer.send(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ key: null, value: String(i) })),
    );
    await completed(sub, 20);
    expect(log.maxConcurrent).toBeGreaterThanOrEqual(10);
  });

  it('retries a flaky handler until it succeeds', async () => {
    const { topic, sub } = await subscribe('service://Flaky/work');
    await producer.send(topic, [{ key: null, value: '1' }]);
    const [row] = await completed(sub, 1);
    expect(row.completionResult).toBe('success');
    expect(row.retryCount).toBe(2);
    expect(row.lastFailure).toContain('flaky failure on attempt 2');
    expect(log.attempts.get(row.id)).toBe(3);
    expect(JSON.parse(row.output!.toString())).toBe('finally');
  });

  it('ends a TerminalError without retry, and dead-letters the record', async () => {
    const dlq = uniqueName('dlq');
    const { topic, sub } = await subscribe('service://Term/work', 1, {
      'tributary.dead-letter-topic': dlq,
    });
    await producer.send(topic, [
      { key: 'the-key', value: '{"x":1}', headers: { traceparent: '00-1-2-01' } },
    ]);
    const [row] = await completed(sub, 1);
    expect(row.completionResult).toBe('failure');
    expect(row.completionFailure).toContain('this record can never succeed');
    expect(row.retryCount).toBe(0);
    expect(log.attempts.get(row.id)).toBe(1);

    const seen: IncomingRecord[] = [];
    const reader = new KafkajsBatchConsumer(kafka, {
      groupId: uniqueName('dlq-reader'),
      topics: [dlq],
      fromBeginning: true,
    });
    await waitFor(async () => (await admin.partitionCount(dlq)) > 0, 'the dead-letter topic');
    await reader.start(async (b) => void seen.push(...b.records));
    try {
      const [dead] = await waitFor(() => (seen.length > 0 ? seen : undefined), 'the dead letter');
      expect(dead.key?.toString()).toBe('the-key');
      expect(dead.value?.toString()).toBe('{"x":1}');
      expect(dead.headers.traceparent?.toString()).toBe('00-1-2-01');
      expect(dead.headers['tributary.dead-letter.reason']?.toString()).toContain(
        'this record can never succeed',
      );
      expect(dead.headers['tributary.invocation.id']?.toString()).toBe(row.id);
      expect(dead.headers['tributary.source.topic']?.toString()).toBe(topic);
    } finally {
      await reader.stop();
    }
  });

  it('fails a non-JSON payload to a JSON handler terminally, with a readable last_failure, and moves on', async () => {
    const { topic, sub } = await subscribe('service://Flaky/work');
    await producer.send(topic, [{ key: null, value: 'not json {' }]);
    const [row] = await completed(sub, 1);
    expect(row.completionResult).toBe('failure');
    expect(row.lastFailure).toContain('Cannot deserialize the input as JSON');
    expect(log.attempts.has(row.id)).toBe(false);
  });

  it('passes raw bytes unchanged, with metadata headers equal to the record coordinates', async () => {
    const { topic, sub } = await subscribe('service://Raw/ingest', 2);
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await producer.send(topic, [
      {
        key: 'k',
        value: bytes,
        partition: 1,
        headers: { bin: Buffer.from([0xff, 0x00]), text: 'hello' },
      },
    ]);
    const [row] = await completed(sub, 1);
    expect(row.id).toBe(invocationIdForRecord(sub, topic, 1, '0'));
    const seen = log.raw.find((r) => r.id === row.id)!;
    expect(seen.bytes).toEqual(bytes);
    expect(seen.headers).toMatchObject({
      'restate.subscription.id': sub,
      'kafka.topic': topic,
      'kafka.partition': '1',
      'kafka.offset': '0',
      'kafka.timestamp': row.kafkaTimestamp,
      'kafka.key': Buffer.from('k').toString('base64url'),
      text: 'hello',
    });
    expect(seen.rawHeaders).toEqual({ bin: Buffer.from([0xff, 0x00]).toString('base64') });
  });

  it('applies state exactly once when the handler crashes after its effect', async () => {
    const { topic, sub } = await subscribe('service://Crashy/bump');
    await producer.send(topic, [{ key: 'once', value: '1' }]);
    const [row] = await completed(sub, 1);
    expect(row.completionResult).toBe('success');
    expect(log.attempts.get(row.id)).toBe(2);
    const [state] = await pipeline.ds.query(
      `SELECT value FROM object_state WHERE service_name = 'Crashy' AND object_key = 'once' AND state_key = 'count'`,
    );
    expect(state.value.toString()).toBe('1');
  });
});
