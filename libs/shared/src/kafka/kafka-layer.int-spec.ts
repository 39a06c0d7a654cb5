import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { testKafka, uniqueName, waitFor } from '../../../../test/support/kafka';
import { KafkajsAdmin, KafkajsBatchConsumer, KafkajsProducer } from './kafkajs.client';
import { IncomingRecord } from './kafka.types';

describe('Kafka layer (real broker)', () => {
  const kafka = testKafka();
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  let consumer: KafkajsBatchConsumer | undefined;

  beforeEach(() => {
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
  });

  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
    await producer.close();
    await admin.close();
  });

  it('sends and receives records with binary keys, values and headers, and commits what it handled', async () => {
    const topic = uniqueName('layer');
    const groupId = uniqueName('layer-group');
    await admin.ensureTopics([{ topic, partitions: 2 }]);
    await admin.ensureTopics([{ topic, partitions: 2 }]); // idempotent
    expect(await admin.partitionCount(topic)).toBe(2);

    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80]);
    await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({
        key: i % 2 === 0 ? binary : `key-${i}`,
        value: Buffer.from(`value-${i}`),
        headers: { traceparent: `00-${i}`, blob: binary },
        partition: i % 2,
      })),
    );

    const seen: IncomingRecord[] = [];
    consumer = new KafkajsBatchConsumer(kafka, { groupId, topics: [topic], fromBeginning: true });
    await consumer.start(async (batch) => {
      seen.push(...batch.records);
    });
    await waitFor(() => seen.length === 10, '10 records');

    const first = seen.find((r) => r.value?.toString() === 'value-0')!;
    expect(first.partition).toBe(0);
    expect(first.key).toEqual(binary);
    expect(first.headers.blob).toEqual(binary);
    expect(first.headers.traceparent?.toString()).toBe('00-0');
    expect(Number(first.timestamp)).toBeGreaterThan(0);
    const p1 = seen.filter((r) => r.partition === 1).map((r) => r.value?.toString());
    expect(p1).toEqual(['value-1', 'value-3', 'value-5', 'value-7', 'value-9']);

    const offsets = await waitFor(async () => {
      const o = await admin.groupOffsets(groupId, topic);
      return o.every((p) => p.lag === 0) ? o : undefined;
    }, 'committed offsets to reach the end');
    expect(offsets).toEqual([
      { partition: 0, committed: '5', start: '0', end: '5', lag: 0 },
      { partition: 1, committed: '5', start: '0', end: '5', lag: 0 },
    ]);
  });

  it('round-trips a large produce request written by the fast encoder, partitioned as kafkajs does', async () => {
    // createKafka installed the fast encoder into this module registry's kafkajs.
    const produceRequests = require('kafkajs/src/protocol/requests/produce'); // eslint-disable-line @typescript-eslint/no-require-imports
    const probe = produceRequests.protocol({ version: 7 })({ acks: -1, timeout: 1, topicData: [] });
    expect(probe.request.encode.toString()).toContain('encodeProduceRequest');

    const topic = uniqueName('layer-fast');
    const groupId = uniqueName('layer-fast-group');
    await admin.ensureTopics([{ topic, partitions: 4 }]);
    const sizes = [0, 1, 63, 64, 1024, 8191, 8192, 16_384];
    const headersOf = (i: number): Record<string, string | Buffer> =>
      i % 3 === 0 ? { i: String(i) } : { i: String(i), u: 'ü'.repeat(i % 9), b: randomBytes(7) };
    const sent = Array.from({ length: 400 }, (_, i) => ({
      key: i % 5 === 0 ? null : i % 5 === 1 ? randomBytes(i % 40) : `clé-${i % 37}-€`,
      value: i % 11 === 0 ? null : randomBytes(sizes[i % sizes.length]),
      headers: headersOf(i),
    }));
    await producer.send(topic, sent);

    const seen: IncomingRecord[] = [];
    consumer = new KafkajsBatchConsumer(kafka, { groupId, topics: [topic], fromBeginning: true });
    await consumer.start(async (batch) => {
      seen.push(...batch.records);
    });
    await waitFor(() => seen.length === sent.length, `${sent.length} records`);

    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 4 }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    const lastIndex = [-1, -1, -1, -1];
    for (const r of seen) {
      const i = Number(r.headers.i?.toString());
      const m = sent[i];
      // (toEqual is very slow on large Buffers)
      expect(r.key?.toString('hex')).toBe(
        m.key === null ? undefined : Buffer.from(m.key).toString('hex'),
      );
      expect(r.value?.toString('base64')).toBe(m.value?.toString('base64'));
      expect(r.headers.u?.toString()).toEqual(m.headers.u);
      expect(r.headers.b).toEqual(m.headers.b);
      if (m.key !== null) {
        expect(r.partition).toBe(partitioner({ topic, partitionMetadata, message: m }));
      }
      // Within a partition, records arrive in the order they were sent.
      expect(i).toBeGreaterThan(lastIndex[r.partition]);
      lastIndex[r.partition] = i;
    }
  });

  it('does not commit a batch whose handler failed, so it is read again', async () => {
    const topic = uniqueName('layer-retry');
    const groupId = uniqueName('layer-retry-group');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    await producer.send(topic, [{ key: 'k', value: 'once' }]);

    let attempts = 0;
    consumer = new KafkajsBatchConsumer(kafka, { groupId, topics: [topic], fromBeginning: true });
    await consumer.start(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('transient');
    });
    await waitFor(() => attempts >= 2, 'the failed batch to be delivered again');
    await waitFor(async () => {
      const [p] = await admin.groupOffsets(groupId, topic);
      return p.committed === '1';
    }, 'the retried batch to be committed');
  });

  it('reports lag for a group that has not committed', async () => {
    const topic = uniqueName('layer-lag');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    await producer.send(topic, [
      { key: null, value: 'a' },
      { key: null, value: 'b' },
    ]);
    expect(await admin.groupOffsets(uniqueName('nobody'), topic)).toEqual([
      { partition: 0, committed: null, start: '0', end: '2', lag: null },
    ]);
  });
});
