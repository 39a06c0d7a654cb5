import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  Bus,
  buildKafkaConfig,
  createKafka,
  invocationFields,
  KafkajsAdmin,
  KafkajsProducer,
  LogLine,
  Shards,
  translateKafkaOptions,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { DataSource } from 'typeorm';
import { CommandIngestor } from '../ingest/command.ingestor';
import { InvokerMetrics } from '../invoker.metrics';

interface DeadLetterRow {
  id: string;
  dead_letter_topic: string;
  kafka_key: Buffer | null;
  input: Buffer | null;
  headers: Record<string, string>;
  raw_headers: Record<string, string> | null;
  completion_failure: string | null;
  subscription_id: string | null;
  kafka_topic: string | null;
  kafka_partition: number | null;
  kafka_offset: string | null;
  cluster: string | null;
  cluster_properties: Record<string, string> | null;
}

const INTERVAL_MS = 500;
const BATCH = 200;
/** Headers Tributary added for the handler; the dead letter carries the record's own ones. */
const METADATA = /^(restate\.subscription\.id|kafka\.(offset|partition|timestamp|topic|key))$/;

interface ClusterClient {
  producer: KafkajsProducer;
  admin: KafkajsAdmin;
  topics: Set<string>;
}

/**
 * Writes the original record of every invocation that ended in failure, for subscriptions with a
 * dead-letter topic, to that topic on the subscription's cluster: key, value and headers as read,
 * plus headers saying why. Driven from Postgres (`dead_lettered_at`), so a crash between the
 * failure and the write loses nothing: the record is written on the next pass (at least once).
 */
@Injectable()
export class DeadLetterPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('dead-letters');
  private readonly clients = new Map<string, ClusterClient>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(Shards) private readonly shards: Shards,
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(CommandIngestor) private readonly ingestor: CommandIngestor,
    @Inject(InvokerMetrics) private readonly metrics: InvokerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.publish()
        .catch((err: unknown) =>
          this.logger.warn(`dead-lettering failed, will retry: ${String(err)}`),
        )
        .finally(() => (this.running = undefined));
    }, INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    for (const c of this.clients.values()) {
      await c.producer.close();
      await c.admin.close();
    }
  }

  private async publish(): Promise<void> {
    // Only the owner of a bus partition dead-letters its invocations: no duplicates from peers.
    const owned = [...this.ingestor.ownedPartitions()];
    const groups = this.shards.split(owned, (p) => p);
    for (const [db, partitions] of groups) await this.publishIn(db, partitions);
  }

  private async publishIn(db: DataSource, partitions: number[]): Promise<void> {
    const failed: Omit<DeadLetterRow, 'cluster' | 'cluster_properties'>[] = await db.query(
      `SELECT i.id, i.dead_letter_topic, i.kafka_key, p.input, COALESCE(p.headers, '{}') AS headers,
              p.raw_headers, i.completion_failure, i.subscription_id, i.kafka_topic,
              i.kafka_partition, i.kafka_offset
         FROM invocations i
         LEFT JOIN invocation_payloads p ON p.id = i.id
        WHERE i.dead_letter_topic IS NOT NULL AND i.dead_lettered_at IS NULL
          AND i.completion_result = 'failure' AND i.bus_partition = ANY($1)
        LIMIT $2`,
      [partitions, BATCH],
    );
    if (failed.length === 0) return;
    // The subscriptions' clusters are in the catalog (`database.url`), not always in this shard.
    const clusters: {
      id: string;
      cluster: string | null;
      cluster_properties: Record<string, string> | null;
    }[] = await this.db.query(
      `SELECT s.id, s.cluster, kc.properties AS cluster_properties
         FROM subscriptions s LEFT JOIN kafka_clusters kc ON kc.name = s.cluster
        WHERE s.id = ANY($1)`,
      [[...new Set(failed.map((f) => f.subscription_id))]],
    );
    const bySubscription = new Map(clusters.map((c) => [c.id, c]));
    const rows: DeadLetterRow[] = failed.map((f) => {
      const c = f.subscription_id === null ? undefined : bySubscription.get(f.subscription_id);
      return {
        ...f,
        cluster: c?.cluster ?? null,
        cluster_properties: c?.cluster_properties ?? null,
      };
    });
    for (const row of rows) {
      const client = await this.client(row);
      if (!client.topics.has(row.dead_letter_topic)) {
        await client.admin.ensureTopics([{ topic: row.dead_letter_topic, partitions: 1 }]);
        client.topics.add(row.dead_letter_topic);
      }
      await client.producer.send(row.dead_letter_topic, [
        { key: row.kafka_key, value: row.input, headers: deadLetterHeaders(row) },
      ]);
      await db.query(`UPDATE invocations SET dead_lettered_at = now() WHERE id = $1`, [row.id]);
      this.metrics.deadLettered.inc();
    }
  }

  private async client(row: DeadLetterRow): Promise<ClusterClient> {
    const name = row.cluster ?? '';
    const cached = this.clients.get(name);
    if (cached) return cached;
    const props =
      this.config.kafkaClusters.find((c) => c.name === row.cluster)?.properties ??
      row.cluster_properties;
    let kafka = this.bus.kafka;
    if (props) {
      kafka = createKafka(
        buildKafkaConfig({
          clientId: 'tributary-dead-letters',
          ...translateKafkaOptions(props, { scope: 'cluster' }).client,
        }),
        'dead-letters',
      );
    } else {
      this.logger.warn(
        new LogLine(
          `subscription of ${row.id} is gone: dead letters go to the bus cluster`,
          invocationFields(row.id),
        ),
      );
    }
    const client = {
      producer: KafkajsProducer.create(kafka),
      admin: KafkajsAdmin.create(kafka),
      topics: new Set<string>(),
    };
    this.clients.set(name, client);
    return client;
  }
}

function deadLetterHeaders(row: DeadLetterRow): Record<string, Buffer | string> {
  const headers: Record<string, Buffer | string> = {};
  for (const [k, v] of Object.entries(row.headers)) if (!METADATA.test(k)) headers[k] = v;
  for (const [k, v] of Object.entries(row.raw_headers ?? {})) headers[k] = Buffer.from(v, 'base64');
  headers['tributary.dead-letter.reason'] = row.completion_failure ?? 'failed';
  headers['tributary.invocation.id'] = row.id;
  if (row.subscription_id) headers['tributary.subscription.id'] = row.subscription_id;
  if (row.kafka_topic !== null) {
    headers['tributary.source.topic'] = row.kafka_topic;
    headers['tributary.source.partition'] = String(row.kafka_partition);
    headers['tributary.source.offset'] = String(row.kafka_offset);
  }
  return headers;
}
