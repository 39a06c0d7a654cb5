// kafkajs directly rather than @nestjs/microservices' Kafka transport: Tributary needs eachBatch,
// manual offset commits only after the bus or the database acknowledged the work, per-partition
// pause/resume and group lag, none of which the transport exposes.
import { Logger } from '@nestjs/common';
import {
  Admin,
  CompressionTypes,
  Consumer,
  EachBatchPayload,
  Kafka,
  KafkaConfig,
  logLevel,
  LogEntry,
  Producer,
  TopicMessages,
} from 'kafkajs';
import {
  BatchConsumer,
  BatchHandler,
  ConsumerOptions,
  IncomingRecord,
  KafkaAdminClient,
  OutgoingRecord,
  PartitionAssignment,
  PartitionOffsets,
  RecordProducer,
  TopicSpec,
} from './kafka.types';
import { Murmur2Partitioner } from './produce/murmur2.partitioner';
import { installFastProduceEncoding } from './produce/produce-request.encoder';
import { SpreadAssigner } from './spread.assigner';

export type KafkaConnectionConfig = Omit<KafkaConfig, 'logCreator' | 'logLevel'>;

function logCreator(context: string) {
  const logger = new Logger(context);
  return () =>
    ({ level, log }: LogEntry): void => {
      const { message, ...extra } = log;
      const text = `${message} ${JSON.stringify(extra)}`;
      if (level === logLevel.ERROR) logger.error(text);
      else if (level === logLevel.WARN) logger.warn(text);
    };
}

export function createKafka(config: KafkaConnectionConfig, context = 'kafka'): Kafka {
  installFastProduceEncoding();
  return new Kafka({ ...config, logLevel: logLevel.WARN, logCreator: logCreator(context) });
}

export function toIncomingRecord(
  topic: string,
  partition: number,
  m: EachBatchPayload['batch']['messages'][number],
): IncomingRecord {
  const headers: Record<string, Buffer | undefined> = {};
  let sizeBytes = (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [name, raw] of Object.entries(m.headers ?? {})) {
    // kafkajs returns repeated header names as an array; the last one wins, as in a map.
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    const buf =
      value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value);
    headers[name] = buf;
    sizeBytes += name.length + (buf?.length ?? 0);
  }
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
    sizeBytes,
  };
}

/** `fetch.max.bytes` and `fetch.message.max.bytes` when a subscription does not set them. */
export const DEFAULT_FETCH_MAX_BYTES = 2 * 1024 * 1024;
export const DEFAULT_FETCH_PARTITION_MAX_BYTES = 256 * 1024;

export class KafkajsBatchConsumer implements BatchConsumer {
  private readonly consumer: Consumer;
  private assigned: PartitionAssignment[] = [];
  private readonly rebalanceListeners: (() => void)[] = [];
  private readonly pendingCommits = new Map<
    string,
    { topic: string; partition: number; offset: string }
  >();
  private committing?: Promise<void>;
  private readonly logger = new Logger('kafka');

  constructor(
    kafka: Kafka,
    private readonly options: ConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeout ?? 30_000,
      heartbeatInterval: options.heartbeatInterval ?? 3_000,
      rebalanceTimeout: options.rebalanceTimeout ?? 60_000,
      minBytes: options.minBytes,
      // Smaller than kafkajs' defaults (10 MiB, 1 MiB): a fetch is held in memory as Buffers
      // outside the heap; these keep a worker under 200 MiB without costing throughput.
      maxBytes: options.maxBytes ?? DEFAULT_FETCH_MAX_BYTES,
      maxBytesPerPartition: options.maxBytesPerPartition ?? DEFAULT_FETCH_PARTITION_MAX_BYTES,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 200,
      readUncommitted: options.readUncommitted,
      rackId: options.rackId,
      // A missing topic is an operator error to report, not something a consumer should create.
      allowAutoTopicCreation: false,
      partitionAssigners: [SpreadAssigner],
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = Object.entries(payload.memberAssignment).map(([topic, partitions]) => ({
        topic,
        partitions: [...partitions].sort((a, b) => a - b),
      }));
      this.rebalanceListeners.forEach((l) => l());
    });
  }

  async start(handler: BatchHandler): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.options.topics,
      fromBeginning: this.options.fromBeginning,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        const records = batch.messages.map((m) =>
          toIncomingRecord(batch.topic, batch.partition, m),
        );
        await handler(
          {
            topic: batch.topic,
            partition: batch.partition,
            records,
            highWatermark: batch.highWatermark,
          },
          {
            heartbeat: () => payload.heartbeat(),
            isRunning: () => payload.isRunning() && !payload.isStale(),
          },
        );
        const last = batch.lastOffset();
        payload.resolveOffset(last);
        // Commit only what the handler finished: the next offset after the batch. Not awaited:
        // kafkajs fetches again only once every batch of the last fetch returned, so a commit
        // round trip per batch here would hold up every partition's next records.
        this.queueCommit({
          topic: batch.topic,
          partition: batch.partition,
          offset: (BigInt(last) + 1n).toString(),
        });
      },
    });
  }

  /**
   * Commits in the background: the latest offset per partition, one OffsetCommit in flight
   * (coalescing what queued meanwhile), so commits of one partition stay in order. A failed
   * commit (partitions lost in a rebalance, broker away) only means those records are read
   * again, and their commands carry the same ids.
   */
  private queueCommit(o: { topic: string; partition: number; offset: string }): void {
    this.pendingCommits.set(`${o.topic}|${o.partition}`, o);
    this.committing ??= this.flushCommits();
  }

  private async flushCommits(): Promise<void> {
    try {
      while (this.pendingCommits.size > 0) {
        const offsets = [...this.pendingCommits.values()];
        this.pendingCommits.clear();
        await this.consumer
          .commitOffsets(offsets)
          .catch((err: unknown) => this.logger.warn(`committing offsets failed: ${String(err)}`));
      }
    } finally {
      this.committing = undefined;
    }
  }

  assignment(): PartitionAssignment[] {
    return this.assigned;
  }

  pause(): void {
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  onRebalance(listener: () => void): void {
    this.rebalanceListeners.push(listener);
  }

  async stop(): Promise<void> {
    // No new batch from here on: otherwise, while the last commits are awaited, the consumer
    // would go on fetching and handling records under what the caller is stopping it for (an
    // old subscription spec, say), and its commits would keep the wait going.
    try {
      this.pause();
    } catch {
      // Not running yet (kafkajs refuses to pause before run): nothing is being fetched.
    }
    await this.committing;
    // disconnect() lets the running eachBatch finish, then leaves the group.
    await this.consumer.disconnect();
    this.assigned = [];
  }
}

/** Bytes of record values merged into one produce request at most. */
const MAX_MERGED_BYTES = 4 * 1024 * 1024;

function toMessage(r: OutgoingRecord) {
  return {
    key: r.key,
    value: r.value,
    headers: r.headers,
    partition: r.partition,
    timestamp: r.timestamp,
  };
}

/**
 * How long a send is retried, from its first attempt, before it fails: beyond the election of new
 * leaders after a broker dies (the brokers' session timeout, 9 s by default, plus the election).
 */
export const SEND_RETRY_MS = 30_000;
const SEND_BACKOFF_FIRST_MS = 100;
const SEND_BACKOFF_MAX_MS = 2_000;

/**
 * Produces with acks=all, and resolves only once the leader of every record's partition
 * acknowledged it.
 *
 * kafkajs 2.2.4 does not promise that by itself: when an attempt of a send fails at one broker
 * (its leader died with the request in flight), its retry sends again only to the brokers that
 * have not answered yet, picked from the leaders of the first attempt. The partitions whose
 * leadership moved to a broker that had answered are left out, and the send resolves without
 * them (kafkajs `producer/sendMessages.js`, `responsePerBroker`). A worker then committed source
 * records whose commands were never written: the scale-out suite's lost records around the
 * SIGKILL of a bus broker (test/scale/bus-failover.int-spec.ts shows it on 3 brokers).
 *
 * So kafkajs is given no retries: each `sendBatch` is one attempt over every record, to the
 * leaders of its current metadata (refreshed by kafkajs after a connection or leadership error),
 * and resolves only when all of them acknowledged. Retrying is done here, with the whole batch
 * each time, for up to SEND_RETRY_MS. Records that one leader wrote before another failed are
 * written again: the producer is not idempotent (kafkajs refuses idempotence without its own
 * retries), and every consumer of what it produces deduplicates (the bus on the invocation id,
 * dead letters are at least once).
 */
export class KafkajsProducer implements RecordProducer {
  private connected?: Promise<void>;

  constructor(private readonly producer: Producer) {}

  static create(kafka: Kafka): KafkajsProducer {
    return new KafkajsProducer(
      kafka.producer({
        idempotent: false,
        retry: { retries: 0 },
        allowAutoTopicCreation: false,
        // kafkajs' DefaultPartitioner (the Java client's choice of partition), computed faster.
        createPartitioner: Murmur2Partitioner,
      }),
    );
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  /** One kafkajs attempt at a time, the whole batch each time, until it is acknowledged. */
  private async sendAll(topicMessages: TopicMessages[]): Promise<void> {
    const deadline = Date.now() + SEND_RETRY_MS;
    for (
      let backoff = SEND_BACKOFF_FIRST_MS;
      ;
      backoff = Math.min(backoff * 2, SEND_BACKOFF_MAX_MS)
    ) {
      try {
        await this.connect();
        await this.producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages,
        });
        return;
      } catch (err) {
        if (!retriable(err) || Date.now() + backoff > deadline) throw err;
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  private queued: { topic: string; records: OutgoingRecord[]; done: (err?: Error) => void }[] = [];
  private queuedBytes = 0;

  /**
   * Sends issued in the same turn of the event loop (the batches of one fetch, handled
   * concurrently) go out together in one produce request rather than one request each, which
   * the broker would answer one after the other on this connection. Each caller's promise
   * settles with the request.
   */
  send(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const bytes = records.reduce((n, r) => n + (r.value?.length ?? 0), 0);
      // Merged, but not beyond what one caller may send at once (the bus's message limit).
      if (this.queued.length > 0 && this.queuedBytes + bytes > MAX_MERGED_BYTES) {
        void this.flushQueued();
      }
      this.queued.push({ topic, records, done: (err) => (err ? reject(err) : resolve()) });
      this.queuedBytes += bytes;
      if (this.queued.length === 1) setImmediate(() => void this.flushQueued());
    });
  }

  private async flushQueued(): Promise<void> {
    const items = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    if (items.length === 0) return;
    try {
      await this.sendAll(
        items.map((i) => ({ topic: i.topic, messages: i.records.map(toMessage) })),
      );
      for (const i of items) i.done();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const i of items) i.done(error);
    }
  }

  async sendMany(batches: { topic: string; records: OutgoingRecord[] }[]): Promise<void> {
    const topicMessages = batches
      .filter((b) => b.records.length > 0)
      .map((b) => ({ topic: b.topic, messages: b.records.map(toMessage) }));
    if (topicMessages.length === 0) return;
    await this.sendAll(topicMessages);
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = undefined;
  }
}

/**
 * An attempt that failed on an error kafkajs would have retried (a lost connection, a leader
 * moving, a timeout): with no retries of its own it reports that as `KafkaJSNumberOfRetriesExceeded`.
 * Anything else (a record too large, a topic missing, the producer disconnecting) fails at once.
 */
function retriable(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'KafkaJSNumberOfRetriesExceeded' ||
      (err as { retriable?: unknown }).retriable === true)
  );
}

/** How long `ensureTopics` waits for new topics' leaders after kafkajs gave up on them. */
const ENSURE_TOPICS_WAIT_MS = 30_000;

export class KafkajsAdmin implements KafkaAdminClient {
  private connected?: Promise<void>;

  constructor(private readonly admin: Admin) {}

  static create(kafka: Kafka): KafkajsAdmin {
    return new KafkajsAdmin(kafka.admin());
  }

  private connect(): Promise<void> {
    this.connected ??= this.admin.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    await this.connect();
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    try {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor ?? 1,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      // kafkajs waits for the leaders by asking the broker it sent the creation to for the topics'
      // metadata, and gives up at once on an UNKNOWN_TOPIC_OR_PARTITION (retriable): on a cluster
      // of several brokers, one the controller has not told about the new topics yet answers so
      // (an invoker exited at start on the 3-broker cluster). Wait for the leaders here instead.
      if ((err as { retriable?: unknown }).retriable !== true) throw err;
      await this.waitForLeaders(missing, err);
    }
  }

  /** Polls the metadata until every topic has its partitions, each with a leader; else `cause`. */
  private async waitForLeaders(
    topics: TopicSpec[],
    cause: unknown,
    timeoutMs = ENSURE_TOPICS_WAIT_MS,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const meta = await this.admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
        const ready = topics.every((t) => {
          const m = meta.topics.find((x) => x.name === t.topic);
          return (
            m !== undefined &&
            m.partitions.length === t.partitions &&
            m.partitions.every((p) => p.leader >= 0)
          );
        });
        if (ready) return;
      } catch {
        // not known to the broker asked yet
      }
      if (Date.now() >= deadline) throw cause;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async partitionCount(topic: string): Promise<number> {
    await this.connect();
    const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  }

  async groupOffsets(groupId: string, topic: string): Promise<PartitionOffsets[]> {
    await this.connect();
    const [ends, [committed]] = await Promise.all([
      this.admin.fetchTopicOffsets(topic),
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]) ?? []);
    return ends
      .map((e) => {
        const c = byPartition.get(e.partition);
        const committedOffset = c === undefined || c === '-1' ? null : c;
        return {
          partition: e.partition,
          committed: committedOffset,
          start: e.low,
          end: e.high,
          lag: committedOffset === null ? null : Number(BigInt(e.high) - BigInt(committedOffset)),
        };
      })
      .sort((a, b) => a.partition - b.partition);
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.connect().then(() => this.admin.describeCluster()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
    this.connected = undefined;
  }
}
