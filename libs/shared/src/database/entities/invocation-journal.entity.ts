import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The journal of an invocation on a Restate SDK deployment: the messages after its input, in
 * order, as Restate's service protocol frames them (type, flags, protobuf body). Written before a
 * `ctx.run` result is fed back to the handler, so a retried or re-claimed invocation replays it
 * and the closure never runs twice; deleted when the invocation completes.
 */
@Entity({ name: 'invocation_journal' })
export class InvocationJournalEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_journal' })
  id: string;

  /** Position after the input: 0 is the first entry the handler wrote. */
  @PrimaryColumn({ type: 'int', primaryKeyConstraintName: 'PK_invocation_journal' })
  idx: number;

  @Column({ type: 'int' })
  type: number;

  @Column({ type: 'int' })
  flags: number;

  @Column({ type: 'bytea' })
  body: Buffer;
}
