import type { EntityManager } from 'typeorm';
import { returnedRows } from './query-result';

/** A notification for an invocation's inbox: a call's result, a signal, a promise's value. */
export interface Delivery {
  /** The invocation it is for. */
  id: string;
  /** What it completes (`c:<completion id>`, `s:<signal id>`, `n:<signal name>`): at most once. */
  dedup: string;
  type: number;
  flags: number;
  body: Uint8Array;
}

/** Where to send a `wake` control message for an invocation that was woken. */
export interface WakeAddress {
  id: string;
  service: string;
  key: string;
  serviceTy: string;
  busPartition: number | null;
}

/**
 * Puts notifications in the inboxes of open invocations (a completed one gets nothing) and makes
 * those that are suspended due now. Run inside a transaction: the receivers' rows are locked
 * first, so a receiver that suspends at the same time either is seen suspended here, or, when
 * its suspension is written after this commits, finds the entry (the invoker's `finish` checks
 * the inbox of what it suspends). Returns the woken invocations: send each a `wake`.
 */
export async function deliverToInbox(
  tx: EntityManager,
  deliveries: Delivery[],
  opts: { fromOtherShard?: boolean } = {},
): Promise<WakeAddress[]> {
  if (deliveries.length === 0) return [];
  const ids = [...new Set(deliveries.map((d) => d.id))].sort();
  await tx.query(`SELECT 1 FROM invocations WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [ids]);
  // From another shard's outbox, a notification may come twice (see `shard_outbox`): only the
  // first, recorded in `invocation_deliveries`, goes in, even if it already left the inbox.
  const fresh = opts.fromOtherShard
    ? `, fresh AS (
         INSERT INTO invocation_deliveries (id, dedup)
         SELECT u.id, u.dedup FROM u JOIN invocations i ON i.id = u.id AND i.status <> 'completed'
         ON CONFLICT (id, dedup) DO NOTHING
         RETURNING id, dedup)`
    : '';
  await tx.query(
    `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::bytea[])
         AS u(id, dedup, type, flags, body))${fresh}
     INSERT INTO invocation_inbox (id, dedup, type, flags, body)
     SELECT u.id, u.dedup, u.type, u.flags, u.body
       FROM u JOIN invocations i ON i.id = u.id AND i.status <> 'completed'
       ${opts.fromOtherShard ? 'JOIN fresh f ON f.id = u.id AND f.dedup = u.dedup' : ''}
     ON CONFLICT (id, dedup) DO NOTHING`,
    [
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.dedup),
      deliveries.map((d) => d.type),
      deliveries.map((d) => d.flags),
      deliveries.map((d) => Buffer.from(d.body)),
    ],
  );
  const rows = returnedRows<{
    id: string;
    target_service: string;
    target_key: string;
    service_ty: string;
    bus_partition: number | null;
  }>(
    await tx.query(
      `UPDATE invocations SET next_retry_at = now(), modified_at = now()
        WHERE id = ANY($1) AND status = 'suspended'
        RETURNING id, target_service, target_key, service_ty, bus_partition`,
      [ids],
    ),
  );
  return rows.map((r) => ({
    id: r.id,
    service: r.target_service,
    key: r.target_key,
    serviceTy: r.service_ty,
    busPartition: r.bus_partition,
  }));
}
