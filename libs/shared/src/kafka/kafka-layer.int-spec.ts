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
      { partition: 0, committed: '5', end: '5', lag: 0 },
      { partition: 1, committed: '5', end: '5', lag: 0 },
    ]);
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
      { partition: 0, committed: null, end: '2', lag: null },
    ]);
  });
});
