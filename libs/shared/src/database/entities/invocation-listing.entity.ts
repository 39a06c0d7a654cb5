import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * What the admin API lists invocations by: one narrow row per invocation, written once and never
 * updated. Postgres fills it from `invocations` by statement triggers (an insert or delete of
 * invocations inserts or deletes the same rows here; a truncate empties it), so every path that
 * writes invocations keeps it whole without knowing of it.
 *
 * Why a table of its own: an invocation row is updated once or twice after its insert (claim,
 * finish), and those updates are never HOT (the status changes, and the partial indexes test it),
 * so each new row version enters every index of the table. The four list indexes, by creation
 * time and per subscription, service and key, live here instead: each invocation enters them
 * once, at its insert, rather than once per row version (docs/architecture.md, "Postgres").
 */
@Entity({ name: 'invocation_listing' })
@Index('IDX_invocation_listing_subscription', ['subscriptionId', 'createdAt', 'id'])
@Index('IDX_invocation_listing_service', ['targetService', 'createdAt', 'id'])
@Index('IDX_invocation_listing_key', ['keyDigest', 'createdAt', 'id'])
export class InvocationListingEntity {
  /**
   * The invocation's `created_at`. The primary key is (created_at, id): the newest-first list
   * reads it backwards, and the delete trigger finds a deleted invocation's entry by it.
   */
  @PrimaryColumn({
    name: 'created_at',
    type: 'timestamptz',
    primaryKeyConstraintName: 'PK_invocation_listing',
  })
  createdAt: Date;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_listing' })
  id: string;

  @Column({ name: 'subscription_id', type: 'text', nullable: true })
  subscriptionId: string | null;

  @Column({ name: 'target_service', type: 'text' })
  targetService: string;

  /** md5(target_key): a record key of any length fits a btree entry this way. */
  @Column({ name: 'key_digest', type: 'text' })
  keyDigest: string;
}
