import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Notifications for an invocation in another shard (a callee's result for its caller), written
 * in the same transaction as what produced them and removed once delivered there: a crash in
 * between delivers them again, which `invocation_deliveries` makes harmless. Unused with one shard.
 */
@Entity({ name: 'shard_outbox' })
export class ShardOutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_shard_outbox' })
  seq: string;

  /** The invocation it is for. */
  @Column({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  dedup: string;

  @Column({ type: 'int' })
  type: number;

  @Column({ type: 'int' })
  flags: number;

  @Column({ type: 'bytea' })
  body: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}

/**
 * The notifications an open invocation received from another shard, by `dedup`: one delivered
 * twice (the outbox's row outlived a crash) is put in the inbox once, even after the first was
 * moved into the journal. Deleted with the invocation's journal.
 */
@Entity({ name: 'invocation_deliveries' })
export class InvocationDeliveryEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_deliveries' })
  id: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_deliveries' })
  dedup: string;
}
