import { Injectable } from '@nestjs/common';
import {
  buildKafkaConfig,
  createKafka,
  mergeKafkaOptions,
  SubscriptionEntity,
  translateKafkaOptions,
} from '@tributary/shared';
import type { Admin, Kafka, KafkaConfig } from 'kafkajs';
import { AdminError } from '../common/admin-error';
import { SubscriptionRepository } from '../subscriptions/subscription.repository';

/** A subscription with where to reach its topic and group. */
export interface SubscriptionKafkaTarget {
  row: SubscriptionEntity;
  kafka: KafkaConfig;
  groupId: string;
  topic: string;
}

const KAFKA_TIMEOUT_MS = 8_000;

/**
 * The subscription's own cluster, as its workers reach it (cluster properties with the
 * subscription's options layered over them), for the console's Kafka calls: offsets and records.
 */
@Injectable()
export class SubscriptionKafka {
  constructor(private readonly repo: SubscriptionRepository) {}

  async target(id: string): Promise<SubscriptionKafkaTarget> {
    const row = await this.repo.findById(id);
    if (row === null) {
      throw AdminError.notFound(`The requested subscription '${id}' does not exist`);
    }
    const props = (await this.repo.clusters()).get(row.cluster);
    if (props === undefined) {
      throw AdminError.conflict(
        `Kafka cluster '${row.cluster}' of subscription '${id}' no longer exists`,
      );
    }
    const t = translateKafkaOptions(mergeKafkaOptions(props, row.options), { scope: 'merged' });
    if (t.errors.length > 0) {
      throw AdminError.conflict(`Subscription '${id}' has invalid options: ${t.errors.join('; ')}`);
    }
    return {
      row,
      kafka: buildKafkaConfig(t.client),
      groupId: row.options['group.id'] ?? row.id,
      topic: row.topic,
    };
  }

  /** A short-lived client of the cluster, for one request. */
  client(kafka: KafkaConfig, purpose: string): Kafka {
    return createKafka(
      {
        ...kafka,
        clientId: 'tributary-admin-api',
        connectionTimeout: kafka.connectionTimeout ?? 3_000,
        retry: { retries: 1, maxRetryTime: 2_000 },
      },
      purpose,
    );
  }

  /** Runs `fn` with a connected admin client, bounded in time; a Kafka failure is a 502. */
  async withAdmin<T>(
    kafka: KafkaConfig,
    purpose: string,
    fn: (admin: Admin) => Promise<T>,
  ): Promise<T> {
    const admin = this.client(kafka, purpose).admin();
    try {
      return await withTimeout(
        admin.connect().then(() => fn(admin)),
        `${purpose}: no answer from Kafka`,
      );
    } catch (err) {
      if (err instanceof AdminError) throw err;
      throw new AdminError(502, `${purpose}: Kafka failed: ${(err as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Low and high watermark per partition; a missing topic is a 409 saying so. */
  async watermarks(
    admin: Admin,
    topic: string,
  ): Promise<Map<number, { low: number; high: number }>> {
    if (!(await admin.listTopics()).includes(topic)) {
      throw AdminError.conflict(`The topic '${topic}' does not exist (yet)`);
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  }
}

export async function withTimeout<T>(
  work: Promise<T>,
  what: string,
  ms = KAFKA_TIMEOUT_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
