import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Notifications for an invocation on a Restate SDK deployment that arrived from outside it: the
 * result of a call it made, an awakeable resolved through the admin API, a workflow promise
 * completed by another handler, a signal. Written by whoever produces them (in the transaction
 * that produces them, at most once each: `dedup` names the completion or signal) and moved into
 * the journal by the invoker that next claims the invocation.
 */
@Entity({ name: 'invocation_inbox' })
export class InvocationInboxEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_inbox' })
  id: string;

  /** `c:<completion id>`, `s:<signal id>` or `n:<signal name>`. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_inbox' })
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

/** A workflow's durable promise (`ctx.promise(name)`), once completed: its value or failure. */
@Entity({ name: 'workflow_promises' })
export class WorkflowPromiseEntity {
  @PrimaryColumn({
    name: 'service_name',
    type: 'text',
    primaryKeyConstraintName: 'PK_workflow_promises',
  })
  serviceName: string;

  @PrimaryColumn({
    name: 'workflow_key',
    type: 'text',
    primaryKeyConstraintName: 'PK_workflow_promises',
  })
  workflowKey: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_workflow_promises' })
  name: string;

  @Column({ type: 'bytea', nullable: true })
  value: Buffer | null;

  @Column({ name: 'failure_code', type: 'int', nullable: true })
  failureCode: number | null;

  @Column({ name: 'failure_message', type: 'text', nullable: true })
  failureMessage: string | null;

  /** `<invocation id>:<completion id>` of the CompletePromise that completed it: a replay of it is not a second completion. */
  @Column({ name: 'completed_by', type: 'text' })
  completedBy: string;

  @Column({ name: 'completed_at', type: 'timestamptz', default: () => 'now()' })
  completedAt: Date;
}

/** An invocation waiting on a workflow promise not completed yet, and the completion it waits with. */
@Entity({ name: 'workflow_promise_waiters' })
export class WorkflowPromiseWaiterEntity {
  @PrimaryColumn({
    name: 'service_name',
    type: 'text',
    primaryKeyConstraintName: 'PK_workflow_promise_waiters',
  })
  serviceName: string;

  @PrimaryColumn({
    name: 'workflow_key',
    type: 'text',
    primaryKeyConstraintName: 'PK_workflow_promise_waiters',
  })
  workflowKey: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_workflow_promise_waiters' })
  name: string;

  @PrimaryColumn({
    name: 'invocation_id',
    type: 'text',
    primaryKeyConstraintName: 'PK_workflow_promise_waiters',
  })
  invocationId: string;

  @PrimaryColumn({
    name: 'completion_id',
    type: 'int',
    primaryKeyConstraintName: 'PK_workflow_promise_waiters',
  })
  completionId: number;

  /** GetPromise or PeekPromise: which completion notification the waiter gets. */
  @Column({ type: 'int' })
  kind: number;
}
