import { Logger } from '@nestjs/common';
import type { Delivery, WakeAddress } from '@tributary/shared';
import { deliverToInbox, returnedRows, Shards } from '@tributary/shared';
import type { DataSource, EntityManager } from 'typeorm';

/** Outbox rows relayed per transaction. */
const RELAY_BATCH = 500;

/**
 * Relays notifications between shards (`database.shards`): a callee's result for a caller in
 * another shard is written to the callee shard's `shard_outbox` in the transaction that records
 * the callee's end, then delivered to every other shard (the caller's shard takes it, the others
 * find no such invocation) and deleted. A relay that fails or dies leaves the rows for the next
 * one (after every `finish` that wrote some, and on each sweep of the owned partitions' shards);
 * a row delivered twice is taken once (`invocation_deliveries`). With one shard nothing is written.
 */
export class ShardOutbox {
  private readonly logger = new Logger('shard-outbox');
  private readonly draining = new Map<DataSource, Promise<void>>();
  private readonly again = new Set<DataSource>();
  /** Sends a `wake` to the callers a relay made due (set by the Restate runtimes). */
  onWake: (to: WakeAddress[]) => Promise<void> = async () => undefined;

  constructor(private readonly shards: Shards) {}

  /** Relays `db`'s outbox soon; at most one relay per shard at a time. */
  kick(db: DataSource): void {
    if (this.draining.has(db)) {
      this.again.add(db);
      return;
    }
    const run = this.drain(db)
      .catch((err: unknown) => this.logger.warn(`relaying the outbox failed: ${String(err)}`))
      .finally(() => {
        this.draining.delete(db);
        if (this.again.delete(db)) this.kick(db);
      });
    this.draining.set(db, run);
  }

  /** Relays the outboxes of the shards of these bus partitions (the owned ones). */
  sweep(partitions: number[]): void {
    if (this.shards.count === 1) return;
    const dbs = new Set(partitions.map((p) => this.shards.of(p)));
    for (const db of dbs) this.kick(db);
  }

  private async drain(from: DataSource): Promise<void> {
    for (;;) {
      const relayed = await from.transaction(async (tx) => {
        // SKIP LOCKED: two invokers sweeping one shard relay different rows.
        const rows: (Delivery & { seq: string })[] = await tx.query(
          `SELECT seq, id, dedup, type, flags, body FROM shard_outbox
            ORDER BY seq LIMIT ${RELAY_BATCH} FOR UPDATE SKIP LOCKED`,
        );
        if (rows.length === 0) return 0;
        const deliveries = rows.map(({ id, dedup, type, flags, body }) => ({
          id,
          dedup,
          type,
          flags,
          body,
        }));
        const woken = await Promise.all(
          this.shards.all
            .filter((db) => db !== from)
            .map((db) =>
              db.transaction((t) => deliverToInbox(t, deliveries, { fromOtherShard: true })),
            ),
        );
        await tx.query(`DELETE FROM shard_outbox WHERE seq = ANY($1)`, [rows.map((r) => r.seq)]);
        await this.onWake(woken.flat());
        return rows.length;
      });
      if (relayed < RELAY_BATCH) return;
    }
  }
}

/** The ids among `deliveries` that are not invocations of this shard. */
export async function notInThisShard(
  tx: EntityManager,
  deliveries: Delivery[],
): Promise<Set<string>> {
  const ids = [...new Set(deliveries.map((d) => d.id))];
  const here = returnedRows<{ id: string }>(
    await tx.query(`SELECT id FROM invocations WHERE id = ANY($1)`, [ids]),
  );
  const found = new Set(here.map((r) => r.id));
  return new Set(ids.filter((id) => !found.has(id)));
}

/** Writes notifications to this shard's outbox, in the caller's transaction. */
export async function writeOutbox(tx: EntityManager, deliveries: Delivery[]): Promise<void> {
  await tx.query(
    `INSERT INTO shard_outbox (id, dedup, type, flags, body)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::bytea[])`,
    [
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.dedup),
      deliveries.map((d) => d.type),
      deliveries.map((d) => d.flags),
      deliveries.map((d) => Buffer.from(d.body)),
    ],
  );
}
