import { maskSecrets, SubscriptionEntity, SubscriptionStatus } from '@tributary/shared';
import type { PartitionStatus } from './consumer-group.inspector';

/** A subscription as every endpoint answers it: Restate's four fields, then Tributary's. */
export interface SubscriptionView {
  id: string;
  source: string;
  sink: string;
  /** Secrets shown as `***`. */
  options: Record<string, string>;
  status: SubscriptionStatus;
  dead_letter_topic: string | null;
  /** Options accepted but without an effect here. */
  warnings: string[];
  created_at: string;
  updated_at: string;
}

export interface PartitionView {
  partition: number;
  committed_offset: number | null;
  end_offset: number;
  lag: number | null;
  worker: string | null;
}

/** `GET /subscriptions/{id}`: also where consumption stands, read from Kafka. */
export interface SubscriptionDetailView extends SubscriptionView {
  partitions: PartitionView[];
  /** Why `partitions` is empty when Kafka could not tell (unreachable, topic missing, ...). */
  partitions_error: string | null;
}

/** Sorted by key: Postgres' jsonb keeps no order, and a stable one reads and diffs better. */
function sortedMasked(options: Record<string, string>): Record<string, string> {
  const masked = maskSecrets(options);
  return Object.fromEntries(
    Object.keys(masked)
      .sort()
      .map((k) => [k, masked[k]]),
  );
}

export function toSubscriptionView(row: SubscriptionEntity, warnings: string[]): SubscriptionView {
  return {
    id: row.id,
    source: row.source,
    sink: row.sink,
    options: sortedMasked(row.options),
    status: row.status,
    dead_letter_topic: row.deadLetterTopic,
    warnings,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toPartitionView(p: PartitionStatus): PartitionView {
  return {
    partition: p.partition,
    committed_offset: p.committedOffset,
    end_offset: p.endOffset,
    lag: p.lag,
    worker: p.worker,
  };
}
