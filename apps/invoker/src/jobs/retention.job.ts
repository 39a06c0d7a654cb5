import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { returnedRows, Shards, TRIBUTARY_CONFIG, TributaryConfig } from '@tributary/shared';
import type { DataSource } from 'typeorm';
import { CommandIngestor } from '../ingest/command.ingestor';

const INTERVAL_MS = 60_000;
const BATCH = 5_000;

/**
 * Purges completed invocations older than `invocation.retention` (24h by default). Every invoker
 * runs it, on the shards of the bus partitions it owns; deleting is idempotent. A failure still
 * waiting for its dead letter is kept.
 */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('retention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    @Inject(Shards) private readonly shards: Shards,
    @Inject(TRIBUTARY_CONFIG) private readonly config: TributaryConfig,
    @Inject(CommandIngestor) private readonly ingestor: Pick<CommandIngestor, 'ownedPartitions'>,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.purge()
        .catch((err: unknown) => {
          this.logger.warn(`purge failed: ${String(err)}`);
          return 0;
        })
        .finally(() => (this.running = undefined));
    }, INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes expired completed invocations in batches, in the owned shards; returns how many. */
  async purge(): Promise<number> {
    const owned = this.shards.split([...this.ingestor.ownedPartitions()], (p) => p);
    const counts = await Promise.all(owned.map(([db]) => this.purgeIn(db)));
    const total = counts.reduce((a, b) => a + b, 0);
    if (total > 0) this.logger.log(`purged ${total} completed invocations`);
    return total;
  }

  private async purgeIn(db: DataSource): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = returnedRows<{ id: string }>(
        await db.query(
          `WITH d AS (
             DELETE FROM invocations WHERE id IN (
               SELECT id FROM invocations
                WHERE status = 'completed'
                  AND completed_at < now() - $1 * interval '1 millisecond'
                  AND (dead_letter_topic IS NULL OR dead_lettered_at IS NOT NULL
                       OR completion_result = 'success')
                LIMIT $2)
             RETURNING id),
           p AS (DELETE FROM invocation_payloads p USING d WHERE p.id = d.id),
           j AS (DELETE FROM invocation_journal j USING d WHERE j.id = d.id),
           b AS (DELETE FROM invocation_inbox b USING d WHERE b.id = d.id),
           r AS (DELETE FROM invocation_deliveries r USING d WHERE r.id = d.id),
           a AS (DELETE FROM invocation_attempts a USING d WHERE a.id = d.id)
         SELECT id FROM d`,
          [this.config.invocation.retentionMs, BATCH],
        ),
      );
      total += rows.length;
      if (rows.length < BATCH) break;
    }
    // A workflow's promises are kept for the retention once completed, while its run is not open.
    await db.query(
      `DELETE FROM workflow_promises w
        WHERE w.completed_at < now() - $1 * interval '1 millisecond'
          AND NOT EXISTS (SELECT 1 FROM invocations i
                           WHERE i.exclusive AND i.status <> 'completed'
                             AND i.target_service = w.service_name
                             AND i.target_key = w.workflow_key)`,
      [this.config.invocation.retentionMs],
    );
    return total;
  }
}
