import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One failed attempt of an invocation: written by the invoker in the transaction that records
 * the attempt's end, only when it failed (nothing on success), so the console's timeline shows
 * each attempt with its failure. Deleted with the invocation (purge, retention).
 */
@Entity({ name: 'invocation_attempts' })
export class InvocationAttemptEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_attempts' })
  id: string;

  /** The claim's epoch: one per attempt, so it orders and names the attempts of an invocation. */
  @PrimaryColumn({ type: 'int', primaryKeyConstraintName: 'PK_invocation_attempts' })
  epoch: number;

  /** When the attempt was claimed (the invocation's running_at then). */
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', default: () => 'now()' })
  endedAt: Date;

  /** The error code (HTTP-like, as Restate's) and message of the failure. */
  @Column({ type: 'int', nullable: true })
  code: number | null;

  @Column({ type: 'text' })
  failure: string;
}
