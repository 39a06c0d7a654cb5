import type { HandlerTy, ServiceTy } from '@tributary/shared';
import type { KafkaConfig } from 'kafkajs';
import type { ConsumerOptions } from '@tributary/shared';

/** Everything a worker needs to consume one subscription, resolved from Postgres and config. */
export interface SubscriptionSpec {
  id: string;
  status: 'active' | 'paused';
  topic: string;
  groupId: string;
  target: {
    service: string;
    handler: string;
    /** Null when the service or handler is no longer registered: records become failures. */
    serviceTy: ServiceTy | null;
    handlerTy: HandlerTy | null;
  };
  kafka: KafkaConfig;
  consumer: Omit<ConsumerOptions, 'groupId' | 'topics'>;
  retryPolicy: Record<string, unknown> | null;
  deadLetterTopic: string | null;
  /** Why this subscription cannot be consumed now (unknown cluster, bad options), or null. */
  problem: string | null;
  /** Changes whenever anything above changes: the runner is restarted on a new fingerprint. */
  fingerprint: string;
}
