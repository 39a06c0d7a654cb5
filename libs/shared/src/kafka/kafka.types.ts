/**
 * Tributary's own view of Kafka. Apps depend on these interfaces, not on kafkajs, so the client
 * library can be swapped (kafkajs is looking for maintainers, its #1603).
 */

export type HeaderValue = Buffer | string;

export interface OutgoingRecord {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, HeaderValue>;
  partition?: number;
  timestamp?: string;
}

export interface IncomingRecord {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as decimal strings. */
  offset: string;
  /** Milliseconds since the epoch, as a decimal string. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
  /** Bytes of key + value + headers as read, for size limits. */
  sizeBytes: number;
}

export interface RecordBatch {
  topic: string;
  partition: number;
  records: IncomingRecord[];
  highWatermark: string;
}

export interface BatchContext {
  /** Keeps the consumer in its group while a batch takes long. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: stop early. */
  isRunning(): boolean;
}

/**
 * Called once per fetched batch. When it resolves, every record of the batch is done and its
 * offset is committed; when it rejects, nothing of the batch is committed and it is read again.
 */
export type BatchHandler = (batch: RecordBatch, ctx: BatchContext) => Promise<void>;

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  rebalanceTimeout?: number;
  minBytes?: number;
  maxBytes?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeInMs?: number;
  readUncommitted?: boolean;
  rackId?: string;
  /** Batches of different partitions handled at once. */
  partitionsConsumedConcurrently?: number;
}

export interface PartitionAssignment {
  topic: string;
  partitions: number[];
}

export interface BatchConsumer {
  start(handler: BatchHandler): Promise<void>;
  /** Current assignment as reported by the group protocol. */
  assignment(): PartitionAssignment[];
  pause(): void;
  resume(): void;
  /** Stops fetching, waits for the batch in hand, commits what it finished and leaves the group. */
  stop(): Promise<void>;
  onRebalance(listener: () => void): void;
}

export interface RecordProducer {
  /** Resolves once the broker acknowledged every record (acks=all). */
  send(topic: string, records: OutgoingRecord[]): Promise<void>;
  sendMany(batches: { topic: string; records: OutgoingRecord[] }[]): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  config?: Record<string, string>;
}

export interface PartitionOffsets {
  partition: number;
  /** Next offset the group will read; null when the group has committed nothing. */
  committed: string | null;
  /** Log start offset (low watermark): the first record still kept. */
  start: string;
  /** Log end offset (high watermark). */
  end: string;
  lag: number | null;
}

export interface KafkaAdminClient {
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  groupOffsets(groupId: string, topic: string): Promise<PartitionOffsets[]>;
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
