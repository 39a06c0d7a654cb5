import { Inject, Injectable } from '@nestjs/common';
import {
  HandlerEntity,
  KafkaClusterEntity,
  SubscriptionEntity,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { DataSource, EntityManager, FindOptionsWhere } from 'typeorm';

// Any constant: namespaces the advisory locks taken per (source, sink) from other lock users.
const SUBSCRIPTION_LOCK_SPACE = 724_311_002;

export interface SubscriptionFilter {
  source?: string;
  sink?: string;
}

export type NewSubscription = Omit<
  SubscriptionEntity,
  'status' | 'generation' | 'createdAt' | 'updatedAt'
>;

/** Everything the subscriptions feature reads and writes in Postgres. */
@Injectable()
export class SubscriptionRepository {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
  ) {}

  findById(id: string): Promise<SubscriptionEntity | null> {
    return this.db.getRepository(SubscriptionEntity).findOneBy({ id });
  }

  list(filter: SubscriptionFilter): Promise<SubscriptionEntity[]> {
    const where: FindOptionsWhere<SubscriptionEntity> = {};
    if (filter.source !== undefined) where.source = filter.source;
    if (filter.sink !== undefined) where.sink = filter.sink;
    return this.db
      .getRepository(SubscriptionEntity)
      .find({ where, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async handlerExists(service: string, handler: string): Promise<boolean> {
    // Postgres refuses a NUL in text, so no registered name holds one.
    if (service.includes('\0') || handler.includes('\0')) return false;
    return this.db.getRepository(HandlerEntity).existsBy({ serviceName: service, name: handler });
  }

  /** Config-file clusters first (they win on a name clash, as in the worker), then runtime ones. */
  async clusters(): Promise<Map<string, Record<string, string>>> {
    const rows = await this.db.getRepository(KafkaClusterEntity).find();
    const clusters = new Map(rows.map((r) => [r.name, r.properties]));
    for (const c of this.config.kafkaClusters) clusters.set(c.name, c.properties);
    return clusters;
  }

  /**
   * Inserts `candidate` unless `existingMatch` picks one of the subscriptions with the same
   * source and sink; under a lock on (source, sink), so two identical requests make one row.
   */
  async insertUnlessExists(
    candidate: NewSubscription,
    existingMatch: (sameEnds: SubscriptionEntity[]) => SubscriptionEntity | undefined,
  ): Promise<{ subscription: SubscriptionEntity; created: boolean }> {
    return this.db.transaction(async (tx) => {
      // A hash collision only serialises two unrelated creates; the match below is exact.
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        SUBSCRIPTION_LOCK_SPACE,
        `${candidate.source}\n${candidate.sink}`,
      ]);
      const sameEnds = await tx
        .getRepository(SubscriptionEntity)
        .find({ where: { source: candidate.source, sink: candidate.sink }, order: { id: 'ASC' } });
      const existing = existingMatch(sameEnds);
      if (existing !== undefined) return { subscription: existing, created: false };
      const subscription = await tx
        .getRepository(SubscriptionEntity)
        .save(tx.getRepository(SubscriptionEntity).create({ ...candidate, status: 'active' }));
      return { subscription, created: true };
    });
  }

  /**
   * Applies `change` to the row under a row lock and bumps its generation, so workers notice.
   * `change` returns false when there is nothing to change (no write, no bump). Null: no row.
   */
  async modify(
    id: string,
    change: (row: SubscriptionEntity) => boolean,
  ): Promise<SubscriptionEntity | null> {
    return this.db.transaction(async (tx: EntityManager) => {
      const repo = tx.getRepository(SubscriptionEntity);
      const row = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (row === null) return null;
      if (!change(row)) return row;
      row.generation += 1;
      return repo.save(row);
    });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.getRepository(SubscriptionEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
