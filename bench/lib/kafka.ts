import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Admin, CompressionTypes, Kafka, Partitioners, Producer } from 'kafkajs';
import { createKafka } from '../../libs/shared/src/kafka/kafkajs.client';

export const BENCH_BROKERS = (process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092').split(',');

export function benchKafka(clientId = 'tributary-bench', brokers = BENCH_BROKERS): Kafka {
  return createKafka({ brokers, clientId, retry: { retries: 5 } }, 'bench');
}

export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
  });
}

/** The key of record `i`: `keys` distinct keys, round robin. */
export const recordKey = (i: number, keys: number): string =>
  `key-${String(i % keys).padStart(Math.max(4, String(keys - 1).length), '0')}`;

/** A JSON object of exactly `bytes` bytes (padded), so a handler could parse it. */
export function recordValue(i: number, key: string, bytes: number): Buffer {
  const head = `{"n":${i},"key":"${key}","pad":"`;
  const tail = '"}';
  const pad = bytes - head.length - tail.length;
  if (pad < 0) throw new Error(`a record of ${bytes} bytes is too small for its JSON envelope`);
  return Buffer.from(head + 'x'.repeat(pad) + tail);
}

export interface ProduceOptions {
  count: number;
  recordBytes: number;
  keys: number;
  /** Records per produce request. */
  batchSize?: number;
  /** Produce requests in flight at once. */
  concurrency?: number;
  onProgress?: (produced: number) => void;
}

/**
 * Loads `count` records into `topic` as fast as kafkajs goes: batches of `batchSize`, several in
 * flight, acks=1 (a load step, not a measurement). Keys decide the partition (murmur2, as Java).
 */
export async function produceRecords(
  kafka: Kafka,
  topic: string,
  opts: ProduceOptions,
): Promise<{ records: number; bytes: number; seconds: number }> {
  const batchSize = opts.batchSize ?? 1_000;
  const concurrency = opts.concurrency ?? 4;
  const producer = benchProducer(kafka);
  await producer.connect();
  const started = performance.now();
  let next = 0;
  let produced = 0;
  let bytes = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.count) {
      const from = next;
      const to = Math.min(opts.count, from + batchSize);
      next = to;
      const messages = [];
      for (let i = from; i < to; i++) {
        const key = recordKey(i, opts.keys);
        const value = recordValue(i, key, opts.recordBytes);
        bytes += key.length + value.length;
        messages.push({ key, value });
      }
      await producer.send({ topic, acks: 1, compression: CompressionTypes.None, messages });
      produced += messages.length;
      opts.onProgress?.(produced);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await producer.disconnect();
  }
  return { records: produced, bytes, seconds: (performance.now() - started) / 1000 };
}

/** Records in a topic: the sum over its partitions of high watermark minus low watermark. */
export async function topicRecordCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + (Number(p.high) - Number(p.low)), 0);
}

/** How far a group's committed offsets are behind the end of each partition, summed. */
export async function groupLag(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<{ committed: number; end: number; lag: number }> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const byPartition = new Map(
    (committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  let committedSum = 0;
  let endSum = 0;
  let lag = 0;
  for (const e of ends) {
    const end = Number(e.high);
    const c = byPartition.get(e.partition) ?? -1;
    const at = c < 0 ? Number(e.low) : c;
    endSum += end;
    committedSum += Math.max(0, at);
    lag += end - at;
  }
  return { committed: committedSum, end: endSum, lag };
}

/** Deletes topics and consumer groups, ignoring ones already gone. */
export async function removeKafkaState(
  admin: Admin,
  topics: string[],
  groups: string[],
): Promise<void> {
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
}

/** The pid of the broker `scripts/infra-up.sh` started, if it runs here (for its CPU use). */
export function localBrokerPid(): number | undefined {
  const cache =
    process.env.TRIBUTARY_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tributary');
  const state = process.env.TRIBUTARY_KAFKA_STATE ?? path.join(cache, 'kafka-state');
  try {
    const pid = Number(readFileSync(path.join(state, 'broker.pid'), 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The producer that loads the benchmarks' topics: plain kafkajs, as a client outside would use. */
export function benchProducer(kafka: Kafka): Producer {
  return kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
