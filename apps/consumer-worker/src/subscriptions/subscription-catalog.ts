import { Inject, Injectable } from '@nestjs/common';
import {
  buildKafkaConfig,
  HandlerTy,
  mergeKafkaOptions,
  ServiceTy,
  translateKafkaOptions,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { DataSource } from 'typeorm';
import type { SubscriptionSpec } from './subscription-spec.model';

interface SubscriptionRow {
  id: string;
  status: 'active' | 'paused';
  cluster: string;
  topic: string;
  service_name: string;
  handler_name: string;
  options: Record<string, string>;
  generation: number;
  dead_letter_topic: string | null;
  service_ty: ServiceTy | null;
  handler_found: string | null;
  handler_ty: HandlerTy | null;
  cluster_properties: Record<string, string> | null;
}

/**
 * What should be consumed: every subscription with its cluster, options and target kind, read in
 * one query. Polled by the worker; cheap enough to run every second.
 */
@Injectable()
export class SubscriptionCatalog {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
  ) {}

  async load(): Promise<SubscriptionSpec[]> {
    const rows: SubscriptionRow[] = await this.db.query(`
      SELECT s.id, s.status, s.cluster, s.topic, s.service_name, s.handler_name, s.options,
             s.generation, s.dead_letter_topic, sv.ty AS service_ty, h.name AS handler_found, h.ty AS handler_ty,
             kc.properties AS cluster_properties
        FROM subscriptions s
        LEFT JOIN services sv ON sv.name = s.service_name
        LEFT JOIN handlers h ON h.service_name = s.service_name AND h.name = s.handler_name
        LEFT JOIN kafka_clusters kc ON kc.name = s.cluster
       ORDER BY s.id`);
    return rows.map((row) => this.toSpec(row));
  }

  private clusterProperties(row: SubscriptionRow): Record<string, string> | undefined {
    const fromConfig = this.config.kafkaClusters.find((c) => c.name === row.cluster);
    return fromConfig?.properties ?? row.cluster_properties ?? undefined;
  }

  private toSpec(row: SubscriptionRow): SubscriptionSpec {
    const clusterProps = this.clusterProperties(row);
    const merged = mergeKafkaOptions(clusterProps ?? {}, row.options);
    const t = translateKafkaOptions(merged, { scope: 'merged' });
    const registered = row.service_ty !== null && row.handler_found !== null;
    const problem =
      clusterProps === undefined
        ? `Kafka cluster '${row.cluster}' not found`
        : t.errors.length > 0
          ? `invalid options: ${t.errors.join('; ')}`
          : null;
    const maxAttempts = t.extensions['tributary.max-attempts'];
    const deadLetterTopic =
      row.dead_letter_topic ?? t.extensions['tributary.dead-letter-topic'] ?? null;
    // With a dead-letter topic, an invocation out of attempts goes there unless told otherwise.
    const onMaxAttempts =
      t.extensions['tributary.on-max-attempts'] ??
      (deadLetterTopic !== null ? 'dead-letter' : undefined);
    const spec: Omit<SubscriptionSpec, 'fingerprint'> = {
      id: row.id,
      status: row.status,
      topic: row.topic,
      groupId: t.consumer.groupId ?? row.id,
      target: {
        service: row.service_name,
        handler: row.handler_name,
        serviceTy: registered ? row.service_ty : null,
        handlerTy: registered ? row.handler_ty : null,
      },
      kafka:
        problem === null ? buildKafkaConfig({ clientId: 'restate', ...t.client }) : { brokers: [] },
      consumer: {
        fromBeginning: t.subscription.fromBeginning ?? false,
        sessionTimeout: t.consumer.sessionTimeout,
        heartbeatInterval: t.consumer.heartbeatInterval,
        rebalanceTimeout: t.consumer.rebalanceTimeout,
        minBytes: t.consumer.minBytes,
        maxBytes: t.consumer.maxBytes,
        maxBytesPerPartition: t.consumer.maxBytesPerPartition,
        maxWaitTimeInMs: t.consumer.maxWaitTimeInMs,
        readUncommitted: t.consumer.readUncommitted,
        rackId: t.consumer.rackId,
      },
      retryPolicy:
        maxAttempts || onMaxAttempts
          ? {
              ...(maxAttempts ? { maxAttempts: Number(maxAttempts) } : {}),
              ...(onMaxAttempts ? { onMaxAttempts } : {}),
            }
          : null,
      deadLetterTopic,
      problem,
    };
    return {
      ...spec,
      fingerprint: JSON.stringify([row.generation, row.status, merged, spec.target, problem]),
    };
  }
}
