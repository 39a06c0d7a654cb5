import { Logger } from '@nestjs/common';
import {
  createKafka,
  KafkajsAdmin,
  KafkajsBatchConsumer,
  RecordBatch,
  RecordProducer,
  tracing,
} from '@tributary/shared';
import { toBusRecord, toInvocationCommand } from '../records/record-converter';
import { RecordBatchTrace } from '../records/record-tracing';
import type { WorkerMetrics } from '../worker.metrics';
import type { SubscriptionSpec } from './subscription-spec.model';

export interface RunnerDeps {
  bus: RecordProducer;
  busTopic: string;
  workerId: string;
  maxRecordBytes: number;
  metrics: WorkerMetrics;
}

/** Bytes of bus records per produce request; stays well under the bus topic's message limit. */
const MAX_SEND_BYTES = 4 * 1024 * 1024;

/** How often the lag of held partitions is read from the group's committed offsets. */
export const LAG_REFRESH_MS = 15_000;

/**
 * Consumes one subscription in its own consumer group. Each batch becomes invocation commands on
 * the bus; the batch's source offsets are committed only after the bus acknowledged them, so a
 * crash re-reads uncommitted records, whose commands carry the same ids.
 */
export class SubscriptionRunner {
  private readonly logger: Logger;
  private consumer?: KafkajsBatchConsumer;
  private admin?: KafkajsAdmin;
  private starting?: Promise<void>;
  private lagTimer?: NodeJS.Timeout;
  /** Partitions whose lag this worker exports. */
  private lagPartitions = new Set<number>();

  constructor(
    readonly spec: SubscriptionSpec,
    private readonly deps: RunnerDeps,
  ) {
    this.logger = new Logger(`subscription ${spec.id}`);
  }

  holdsPartitions(): boolean {
    return (this.consumer?.assignment() ?? []).some((a) => a.partitions.length > 0);
  }

  start(): Promise<void> {
    this.starting = this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    const { spec, deps } = this;
    // The worker id in the client id tells the admin API which worker holds which partition.
    const kafka = createKafka(
      { ...spec.kafka, clientId: `${spec.kafka.clientId ?? 'restate'}@${deps.workerId}` },
      `subscription ${spec.id}`,
    );
    this.consumer = new KafkajsBatchConsumer(kafka, {
      ...spec.consumer,
      groupId: spec.groupId,
      topics: [spec.topic],
      // At least the partitions one member holds: kafkajs fetches again only after every batch
      // of a fetch is handled, so with fewer, a fetch's batches are handled in several rounds.
      partitionsConsumedConcurrently: 64,
    });
    this.admin = KafkajsAdmin.create(kafka);
    this.consumer.onRebalance(() => {
      deps.metrics.rebalances.inc({ subscription: spec.id });
      void this.refreshLag();
    });
    this.lagTimer = setInterval(() => void this.refreshLag(), LAG_REFRESH_MS);
    try {
      await this.consumer.start((batch) => this.handle(batch));
    } catch (err) {
      const consumer = this.consumer;
      this.consumer = undefined;
      await consumer.stop().catch(() => undefined);
      await this.stopLag();
      throw err;
    }
    this.logger.log(`consuming ${spec.topic} as group ${spec.groupId}`);
  }

  /** Waits for a start in progress, then leaves the group after the batch in hand is committed. */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
    await this.stopLag();
  }

  /**
   * Lag of every partition held, from the group's committed offsets and the partitions' ends:
   * exported on assignment and every LAG_REFRESH_MS, so a partition that has had no batch (idle,
   * or stuck) has a value too. Batches update it in between. Partitions let go are removed.
   */
  private async refreshLag(): Promise<void> {
    const { consumer, admin, spec, deps } = this;
    if (!consumer || !admin) return;
    const held = new Set(
      consumer
        .assignment()
        .filter((a) => a.topic === spec.topic)
        .flatMap((a) => a.partitions),
    );
    for (const p of this.lagPartitions) {
      if (!held.has(p)) deps.metrics.lag.remove({ subscription: spec.id, partition: String(p) });
    }
    this.lagPartitions = held;
    if (held.size === 0) return;
    try {
      for (const o of await admin.groupOffsets(spec.groupId, spec.topic)) {
        if (!held.has(o.partition) || this.consumer !== consumer) continue;
        // Nothing committed yet: the group starts at the log's start or at its end.
        const lag =
          o.lag ?? (spec.consumer.fromBeginning ? Number(BigInt(o.end) - BigInt(o.start)) : 0);
        deps.metrics.lag.set({ subscription: spec.id, partition: String(o.partition) }, lag);
      }
    } catch (err) {
      this.logger.warn(`reading the group's offsets for lag failed: ${String(err)}`);
    }
  }

  private async stopLag(): Promise<void> {
    clearInterval(this.lagTimer);
    for (const p of this.lagPartitions) {
      this.deps.metrics.lag.remove({ subscription: this.spec.id, partition: String(p) });
    }
    this.lagPartitions.clear();
    const admin = this.admin;
    this.admin = undefined;
    await admin?.close();
  }

  private async handle(batch: RecordBatch): Promise<void> {
    const { spec, deps } = this;
    const labels = { subscription: spec.id };
    let poison = 0;
    let chunk = [];
    let chunkBytes = 0;
    // Tracing off: one boolean read per batch, nothing allocated.
    const traced = tracing.on ? new RecordBatchTrace(spec, deps.busTopic) : undefined;
    try {
      for (const record of batch.records) {
        const command = toInvocationCommand(spec, record, deps.maxRecordBytes);
        if (command.failure !== null) poison += 1;
        traced?.add(record, command);
        const busRecord = toBusRecord(command);
        // The value is the record's own bytes; the command header adds well under a KiB.
        const size = (busRecord.value?.length ?? 0) + 1024;
        if (chunkBytes + size > MAX_SEND_BYTES && chunk.length > 0) {
          await deps.bus.send(deps.busTopic, chunk);
          chunk = [];
          chunkBytes = 0;
        }
        chunk.push(busRecord);
        chunkBytes += size;
      }
      await deps.bus.send(deps.busTopic, chunk);
    } catch (err) {
      traced?.end(err);
      throw err;
    }
    traced?.end();
    const n = batch.records.length;
    deps.metrics.recordsConsumed.inc(labels, n);
    deps.metrics.commandsEmitted.inc(labels, n);
    if (poison > 0) deps.metrics.poisonRecords.inc(labels, poison);
    const last = batch.records[n - 1].offset;
    deps.metrics.lag.set(
      { ...labels, partition: String(batch.partition) },
      Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)),
    );
  }
}
