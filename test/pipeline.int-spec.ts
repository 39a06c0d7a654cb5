import * as t from '@tributary/sdk';
import type { Server } from 'node:http';
import { InvocationEntity } from '../libs/shared/src/database/entities';
import { toBusRecord } from '../apps/consumer-worker/src/records/record-converter';
import type { InvocationCommand } from '../libs/shared/src/contracts/invocation-command';
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
    if (res.status !== 201)
      throw new Error(`creating the subscription failed: ${JSON.stringify(res.body)}`);
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
    pipeline = await Pipeline.start('pipeline', {
      invokers: 2,
      extraConfig: ['[invoker]', 'lease-ttl = "3s"'],
    });
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

  it("runs a workflow's run once per workflow id: later records of the id record its result", async () => {
    const { topic, sub } = await subscribe('service://Once/run', 1);
    await producer.send(topic, [
      { key: 'w1', value: JSON.stringify({ n: 1 }), partition: 0 },
      { key: 'w1', value: JSON.stringify({ n: 2 }), partition: 0 },
      { key: 'w2', value: JSON.stringify({ n: 3 }), partition: 0 },
    ]);
    const rows = (await completed(sub, 3)).sort(
      (a, b) => Number(a.kafkaOffset) - Number(b.kafkaOffset),
    );
    expect(log.attempts.get('Once/w1')).toBe(1);
    expect(log.attempts.get('Once/w2')).toBe(1);
    expect(rows.map((r) => JSON.parse(r.output!.toString()) as unknown)).toEqual([
      { key: 'w1', n: 1 },
      { key: 'w1', n: 1 },
      { key: 'w2', n: 3 },
    ]);
    expect(rows.map((r) => r.workflowRunOf)).toEqual([null, rows[0].id, null]);
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
    // Idle keys start with their insert (one statement: running_at = created_at); a key's next
    // invocation is claimed with the end of the one before (one transaction: same timestamp).
    const [paths] = await pipeline.ds.query(
      `SELECT count(*) FILTER (WHERE running_at = created_at)::int AS started_at_insert,
              count(*) FILTER (WHERE running_at = previous_end)::int AS handed_over
         FROM (SELECT running_at, created_at,
                      lag(completed_at) OVER (PARTITION BY target_key ORDER BY seq) AS previous_end
                 FROM invocations WHERE subscription_id = $1) r`,
      [sub],
    );
    expect(paths.started_at_insert).toBeGreaterThan(0);
    expect(paths.handed_over).toBeGreaterThan(0);
  });

  it('runs a bus command delivered twice once, as one row, in its first place in the key order', async () => {
    const sub = `sub_dup${Date.now()}`;
    const key = uniqueName('dup');
    const command = (n: number): InvocationCommand => ({
      type: 'invoke',
      v: 1,
      id: invocationIdForRecord(sub, 'dup-topic', 0, String(n)),
      subscriptionId: sub,
      target: {
        service: 'Seq',
        handler: 'record',
        key,
        serviceTy: 'VIRTUAL_OBJECT',
        handlerTy: 'EXCLUSIVE',
      },
      record: {
        topic: 'dup-topic',
        partition: 0,
        offset: String(n),
        timestamp: String(Date.now()),
        key: null,
      },
      headers: {},
      rawHeaders: {},
      body: Buffer.from(JSON.stringify({ n })),
      failure: null,
      retryPolicy: null,
      deadLetterTopic: null,
    });
    const [c0, c1, c2] = [0, 1, 2].map(command);
    // Twice in one batch, then again (as a worker that crashed before committing would).
    await producer.send(pipeline.busTopic, [c0, c0, c1].map(toBusRecord));
    await producer.send(pipeline.busTopic, [c0, c1, c2].map(toBusRecord));
    const rows = await completed(sub, 3);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.completionResult === 'success')).toBe(true);
    for (const c of [c0, c1, c2]) expect(log.attempts.get(c.id)).toBe(1);
    expect(log.sequences.get(key)).toEqual([0, 1, 2]);
    const bySeq = [...rows].sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq))).map((r) => r.id);
    expect(bySeq).toEqual([c0.id, c1.id, c2.id]);
  });

  it('stores a bus command with U+0000 in its key as a failed invocation naming the field, beside a good one', async () => {
    const sub = `sub_nul${Date.now()}`;
    const command = (n: number, key: string): InvocationCommand => ({
      type: 'invoke',
      v: 1,
      id: invocationIdForRecord(sub, 'nul-topic', 0, String(n)),
      subscriptionId: sub,
      target: {
        service: 'Seq',
        handler: 'record',
        key,
        serviceTy: 'VIRTUAL_OBJECT',
        handlerTy: 'EXCLUSIVE',
      },
      record: {
        topic: 'nul-topic',
        partition: 0,
        offset: String(n),
        timestamp: String(Date.now()),
        key: null,
      },
      headers: {},
      rawHeaders: {},
      body: Buffer.from(JSON.stringify({ n })),
      failure: null,
      retryPolicy: null,
      deadLetterTopic: null,
    });
    // Not what a worker writes (it refuses such a key), but another writer of the bus might.
    const bad = command(0, 'k\u0000ey');
    const good = command(1, uniqueName('nul-neighbour'));
    await producer.send(pipeline.busTopic, [bad, good].map(toBusRecord));
    const rows = await completed(sub, 2);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(good.id)!.completionResult).toBe('success');
    expect(byId.get(bad.id)).toMatchObject({
      completionResult: 'failure',
      targetKey: 'k\uFFFDey',
      completionFailure:
        "the invocation command's key contains U+0000 (a NUL byte), which cannot be stored; the record was not delivered",
    });
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

  it('under a backlog, starts invocations with their insert rather than claiming them later', async () => {
    // 1,200 records at once for two invokers of 256 slots each and a 300 ms handler: most arrive
    // while every slot is busy. Ingestion waits for room, so each starts as it is inserted (one
    // row version) instead of waiting in memory to be claimed (a second one).
    const claims = async () => {
      const total = { insert: 0, claim: 0 };
      for (const app of ['invoker-0', 'invoker-1']) {
        const text = await (await fetch(`${pipeline.app(app).url}/metrics`)).text();
        for (const path of ['insert', 'claim'] as const) {
          const m = new RegExp(
            `^tributary_invoker_claims_total\\{path="${path}",result="claimed"\\} (\\d+)`,
            'm',
          ).exec(text);
          total[path] += Number(m?.[1] ?? 0);
        }
      }
      return total;
    };
    const { topic, sub } = await subscribe('service://Par/work', 4);
    const before = await claims();
    await producer.send(
      topic,
      Array.from({ length: 1_200 }, (_, i) => ({ key: null, value: String(i), partition: i % 4 })),
    );
    await completed(sub, 1_200);
    const after = await claims();
    const started = { insert: after.insert - before.insert, claim: after.claim - before.claim };
    expect(started.insert + started.claim).toBeGreaterThanOrEqual(1_200);
    // Without the wait for room about 700 would be claimed; a few may be when room comes late.
    expect(started.claim).toBeLessThan(120);
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

  it('with a dead-letter topic, dead-letters after the last attempt (on-max-attempts defaults to "dead-letter")', async () => {
    log.failing.add('Toggle');
    const dlq = uniqueName('dlq-retries');
    const { topic, sub } = await subscribe('service://Toggle/work', 1, {
      'tributary.max-attempts': '2',
      'tributary.dead-letter-topic': dlq,
    });
    await producer.send(topic, [{ key: 'k', value: '7' }]);
    const [row] = await completed(sub, 1);
    log.failing.delete('Toggle');
    expect(row.completionResult).toBe('failure');
    expect(row.completionFailure).toContain('gave up after 2 attempts');
    const reader = new KafkajsBatchConsumer(kafka, {
      groupId: uniqueName('dlq2'),
      topics: [dlq],
      fromBeginning: true,
    });
    const seen: IncomingRecord[] = [];
    await waitFor(async () => (await admin.partitionCount(dlq)) > 0, 'the dead-letter topic');
    await reader.start(async (b) => void seen.push(...b.records));
    try {
      const [dead] = await waitFor(() => (seen.length > 0 ? seen : undefined), 'the dead letter');
      expect(dead.value?.toString()).toBe('7');
      expect(dead.headers['tributary.dead-letter.reason']?.toString()).toContain('still failing');
    } finally {
      await reader.stop();
    }
  });

  it('pauses after the last attempt when told to, dead-letter topic or not, and the paused gauge counts it', async () => {
    log.failing.add('Toggle');
    const { topic, sub } = await subscribe('service://Toggle/work', 1, {
      'tributary.max-attempts': '1',
      'tributary.on-max-attempts': 'pause',
      'tributary.dead-letter-topic': uniqueName('dlq-unused'),
    });
    await producer.send(topic, [{ key: 'k', value: '1' }]);
    const row = await waitFor(async () => {
      const [r] = await invocations().find({ where: { subscriptionId: sub } });
      return r?.status === 'paused' ? r : undefined;
    }, 'the invocation to pause');
    log.failing.delete('Toggle');
    expect(row).toMatchObject({ completionResult: null, deadLetteredAt: null, retryCount: 1 });
    // The invokers' gauges add up to what the admin API lists as paused (a Service invocation
    // among them, which no invoker keeps in memory while paused).
    const invokers = pipeline.apps.filter((a) => a.name.startsWith('invoker-'));
    expect(invokers).toHaveLength(2);
    const gauge = async () => {
      let sum = 0;
      for (const { url } of invokers) {
        const text = await (await fetch(`${url}/metrics`)).text();
        const m = /^tributary_invoker_invocations\{status="paused"\} (\d+)$/m.exec(text);
        sum += Number(m?.[1] ?? 0);
      }
      return sum;
    };
    const listed = async () => {
      const res = await pipeline.admin('GET', '/invocations?status=paused&limit=1000');
      return (res.body.invocations as unknown[]).length;
    };
    await waitFor(async () => {
      const [g, l] = [await gauge(), await listed()];
      return g === l && l >= 1;
    }, 'the paused gauge to equal the paused invocations listed');
    expect((await pipeline.admin('PATCH', `/invocations/${row.id}/resume`)).status).toBe(200);
    const [done] = await completed(sub, 1);
    expect(done.completionResult).toBe('success');
  });

  it('applies the retry policy a handler declares in its manifest (2 attempts, then kill)', async () => {
    const { topic, sub } = await subscribe('service://Limited/work');
    await producer.send(topic, [{ key: null, value: '1' }]);
    const [row] = await completed(sub, 1);
    expect(row.completionResult).toBe('failure');
    expect(row.retryCount).toBe(2);
    expect(row.completionFailure).toContain('gave up after 2 attempts');
    expect(log.attempts.get(row.id)).toBe(2);
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
      'kafka.key': 'aw==', // as Restate sends it: URL-safe base64 with padding
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

  it('pauses after the last attempt; resume through the admin API runs it again', async () => {
    log.failing.add('Toggle');
    const { topic, sub } = await subscribe('service://Toggle/work', 1, {
      'tributary.max-attempts': '2',
    });
    await producer.send(topic, [{ key: null, value: '1' }]);
    const row = await waitFor(async () => {
      const [r] = await invocations().find({ where: { subscriptionId: sub } });
      return r?.status === 'paused' ? r : undefined;
    }, 'the invocation to pause after 2 attempts');
    expect(row.retryCount).toBe(2);
    expect(row.lastFailure).toContain('still failing');
    expect(log.attempts.get(row.id)).toBe(2);

    log.failing.delete('Toggle');
    expect((await pipeline.admin('PATCH', `/invocations/${row.id}/resume`)).status).toBe(200);
    const [done] = await completed(sub, 1);
    expect(done.completionResult).toBe('success');
    expect(log.attempts.get(row.id)).toBe(3);
  });

  it.each(['kill', 'cancel'])(
    '%s aborts a running invocation and completes it as failed',
    async (action) => {
      const { topic, sub } = await subscribe('service://Slow/work');
      await producer.send(topic, [{ key: null, value: '1' }]);
      const running = await waitFor(async () => {
        const [r] = await invocations().find({ where: { subscriptionId: sub } });
        return r?.status === 'running' && log.attempts.has(r.id) ? r : undefined;
      }, 'the slow invocation to be running');
      expect((await pipeline.admin('PATCH', `/invocations/${running.id}/${action}`)).status).toBe(
        202,
      );
      const [row] = await completed(sub, 1);
      expect(row.completionResult).toBe('failure');
      expect(row.completionFailure).toContain(action === 'kill' ? 'killed' : 'canceled');
      await waitFor(() => log.aborted.has(running.id), 'the request in flight to be aborted');
    },
  );

  it('restarts a completed invocation as new, then purges the old one', async () => {
    const { topic, sub } = await subscribe('service://Flaky/work');
    await producer.send(topic, [{ key: null, value: '1' }]);
    const [first] = await completed(sub, 1);
    const res = await pipeline.admin('PATCH', `/invocations/${first.id}/restart-as-new`);
    expect(res.status).toBe(200);
    const newId = res.body.new_invocation_id as string;
    expect(newId).not.toBe(first.id);
    const again = await waitFor(async () => {
      const r = await invocations().findOneBy({ id: newId });
      return r?.status === 'completed' ? r : undefined;
    }, 'the restarted invocation to complete');
    expect(again.completionResult).toBe('success');
    expect(again.restartedFrom).toBe(first.id);
    expect(log.attempts.get(newId)).toBe(3);

    expect((await pipeline.admin('PATCH', `/invocations/${first.id}/purge`)).status).toBe(200);
    expect((await pipeline.admin('GET', `/invocations/${first.id}`)).status).toBe(404);
    expect((await pipeline.admin('GET', `/invocations/${newId}/output`)).body).toBe('finally');
  });

  it('reports invoker and worker metrics in Prometheus format', async () => {
    const invokerMetrics = await (await fetch(`${pipeline.app('invoker-0').url}/metrics`)).text();
    for (const name of [
      'tributary_invoker_invocations_completed_total',
      'tributary_invoker_attempts_total',
      'tributary_invoker_handler_duration_seconds_bucket',
      'tributary_invoker_in_flight',
      'tributary_invoker_pending{key_class="exclusive"}',
      'tributary_invoker_commands_ingested_total',
      'tributary_invoker_claims_total{path="insert",result="claimed"}',
      'tributary_invoker_claims_total{path="handover",result="claimed"}',
    ]) {
      expect(invokerMetrics).toContain(name);
    }
    const workerMetrics = await (await fetch(`${pipeline.app('worker-0').url}/metrics`)).text();
    for (const name of [
      'tributary_worker_records_consumed_total{subscription=',
      'tributary_worker_commands_emitted_total{subscription=',
      'tributary_worker_poison_records_total',
      'tributary_worker_lag_records{subscription=',
      'tributary_worker_rebalances_total{subscription=',
      'tributary_worker_claimed_subscriptions',
    ]) {
      expect(workerMetrics).toContain(name);
    }
  });

  it('keeps per-key order and never overlaps when an invoker is SIGKILLed mid-stream', async () => {
    const { topic, sub } = await subscribe('service://Seq/record', 4);
    const keys = 40;
    const perKey = 25;
    const send = async (from: number, to: number) => {
      const records = [];
      for (let i = from; i < to; i++) {
        const k = i % keys;
        records.push({
          key: `crash-${k}`,
          value: JSON.stringify({ n: Math.floor(i / keys) }),
          partition: k % 4,
        });
      }
      await producer.send(topic, records);
    };
    await send(0, (keys * perKey) / 2);
    await waitFor(async () => {
      const [{ n }] = await pipeline.ds.query(
        `SELECT count(*)::int AS n FROM invocations WHERE subscription_id = $1 AND status = 'completed'`,
        [sub],
      );
      return n > 50;
    }, 'the stream to be under way');
    pipeline.app('invoker-1').process.kill('SIGKILL');
    await send((keys * perKey) / 2, keys * perKey);
    const rows = await completed(sub, keys * perKey);

    expect(rows.every((r) => r.completionResult === 'success')).toBe(true);
    expect(log.overlaps).toEqual([]);
    for (let k = 0; k < keys; k++) {
      // At least once: an attempt cut off by the crash runs again, right where it was.
      const ran = log.sequences
        .get(`crash-${k}`)!
        .filter((n, i, all) => i === 0 || all[i - 1] !== n);
      expect(ran).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
    const state: { value: Buffer }[] = await pipeline.ds.query(
      `SELECT value FROM object_state WHERE service_name = 'Seq' AND object_key LIKE 'crash-%' AND state_key = 'count'`,
    );
    expect(state.map((s) => Number(s.value.toString()))).toEqual(Array(keys).fill(perKey));
  });
});
