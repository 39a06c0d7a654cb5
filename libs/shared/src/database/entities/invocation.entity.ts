import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Restate's invocation statuses, with its names (docs/admin-api.md lists what each means). */
export const INVOCATION_STATUSES = [
  'pending',
  'scheduled',
  'ready',
  'running',
  'backing-off',
  'paused',
  'suspended',
  'completed',
] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];
export type CompletionResult = 'success' | 'failure';
export type InvokedBy = 'subscription' | 'restart_as_new' | 'ingress' | 'service';

/**
 * One row per invocation, written before the bus offset of its command is committed.
 *
 * Ordering: `exclusive` rows (virtual object exclusive handlers, workflow `run`) of one
 * (target_service, target_key) execute one at a time in `seq` order; `seq` is assigned at insert,
 * and all commands of one key arrive through one bus partition, in order, so `seq` order is the
 * source partition order. Running rows hold a lease (`lease_owner`, `lease_expires_at`) and an
 * `epoch` fencing token bumped on every claim, so a late write from a previous owner is rejected.
 * The input and headers never change and live in `invocation_payloads`, so the two updates of an
 * invocation (claim, finish) copy a row of a few hundred bytes, not the payload.
 */
@Entity({ name: 'invocations' })
// The open rows, by key: the claim's per-key check, a key's queue, and (read whole) a bus
// partition's open invocations and the console's open counts.
@Index('IDX_invocations_open', ['targetService', 'targetKey', 'seq'], {
  where: `"status" <> 'completed'`,
})
// The running exclusive rows, by key: the claim's check for one running under a live lease.
@Index('IDX_invocations_running', ['targetService', 'targetKey'], {
  where: `"exclusive" AND "status" = 'running'`,
})
// The admin API's list indexes (by creation time, and per subscription, service and key) are on
// `invocation_listing`, entered once per invocation rather than once per row version.
@Index('IDX_invocations_retention', ['completedAt'], { where: `"status" = 'completed'` })
// For the paused gauge; only rows that pause or leave paused ever touch it.
@Index('IDX_invocations_paused', ['busPartition'], { where: `"status" = 'paused'` })
// For the sweep of suspended invocations that became due; only suspended rows are in it.
@Index('IDX_invocations_suspended', ['busPartition', 'nextRetryAt'], {
  where: `"status" = 'suspended'`,
})
// For a workflow's run once per id: the completed runs of a workflow id.
// (target_service, md5(target_key), seq): TypeORM cannot declare an expression, so migration
// 1796200000000 defines it; queries compare the digest, then the key.
@Index('IDX_invocations_workflow_runs', { synchronize: false })
// A subscription's dead letters, newest first (the console's dead-letter page).
@Index('IDX_invocations_dead_letter_list', ['subscriptionId', 'completedAt', 'id'], {
  where: `"dead_letter_topic" IS NOT NULL AND "status" = 'completed' AND "completion_result" = 'failure'`,
})
// Dead-lettered in the last minute (the console's overview); only dead-lettered rows are in it.
@Index('IDX_invocations_dead_lettered_at', ['deadLetteredAt'], {
  where: `"dead_lettered_at" IS NOT NULL`,
})
@Index('IDX_invocations_dead_letters', ['busPartition'], {
  where: `"dead_letter_topic" IS NOT NULL AND "dead_lettered_at" IS NULL AND "completion_result" = 'failure'`,
})
export class InvocationEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocations' })
  id: string;

  /** Arrival order; per key it is the source partition order. */
  @Column({ type: 'bigint', generated: 'increment' })
  seq: string;

  @Column({ name: 'target_service', type: 'text' })
  targetService: string;

  @Column({ name: 'target_handler', type: 'text' })
  targetHandler: string;

  /** The virtual object / workflow key; '' for services. */
  @Column({ name: 'target_key', type: 'text', default: '' })
  targetKey: string;

  /** SERVICE | VIRTUAL_OBJECT | WORKFLOW, from the registry when the command was made. */
  @Column({ name: 'service_ty', type: 'text' })
  serviceTy: string;

  /** EXCLUSIVE | SHARED | WORKFLOW, or null for service handlers. */
  @Column({ name: 'handler_ty', type: 'text', nullable: true })
  handlerTy: string | null;

  /** True when at most one invocation per key may run: the ordering rule's switch. */
  @Column({ type: 'boolean' })
  exclusive: boolean;

  @Column({ type: 'text' })
  status: InvocationStatus;

  @Column({ name: 'completion_result', type: 'text', nullable: true })
  completionResult: CompletionResult | null;

  @Column({ name: 'completion_failure', type: 'text', nullable: true })
  completionFailure: string | null;

  @Column({ name: 'invoked_by', type: 'text' })
  invokedBy: InvokedBy;

  @Column({ name: 'subscription_id', type: 'text', nullable: true })
  subscriptionId: string | null;

  @Column({ name: 'kafka_topic', type: 'text', nullable: true })
  kafkaTopic: string | null;

  @Column({ name: 'kafka_partition', type: 'int', nullable: true })
  kafkaPartition: number | null;

  @Column({ name: 'kafka_offset', type: 'bigint', nullable: true })
  kafkaOffset: string | null;

  @Column({ name: 'kafka_timestamp', type: 'bigint', nullable: true })
  kafkaTimestamp: string | null;

  /** The record key's bytes as read, for dead letters (the UTF-8 text is in target_key). */
  @Column({ name: 'kafka_key', type: 'bytea', nullable: true })
  kafkaKey: Buffer | null;

  /**
   * The bus partition its command arrived on. The invoker that owns that partition (through the
   * bus consumer group) schedules the invocation; control messages are sent to it there.
   */
  @Column({ name: 'bus_partition', type: 'int', nullable: true })
  busPartition: number | null;

  /** Where the original record goes if this invocation ends in failure (from its subscription). */
  @Column({ name: 'dead_letter_topic', type: 'text', nullable: true })
  deadLetterTopic: string | null;

  @Column({ name: 'dead_lettered_at', type: 'timestamptz', nullable: true })
  deadLetteredAt: Date | null;

  /** Set on an invocation made by restart-as-new: the one it restarts. */
  @Column({ name: 'restarted_from', type: 'text', nullable: true })
  restartedFrom: string | null;

  /**
   * Set on an invocation made by another one (a Restate SDK call or one-way send): the caller.
   * With `caller_completion_id`, the caller waits for its result, delivered to the caller's inbox
   * in the transaction that completes this one.
   */
  @Column({ name: 'caller_id', type: 'text', nullable: true })
  callerId: string | null;

  @Column({ name: 'caller_completion_id', type: 'int', nullable: true })
  callerCompletionId: number | null;

  /**
   * Set on a workflow \`run\` invocation that did not run because its workflow id already had
   * one: the id of that run, whose result this invocation records.
   */
  @Column({ name: 'workflow_run_of', type: 'text', nullable: true })
  workflowRunOf: string | null;

  /** Per-subscription retry policy override captured at creation; null = service/global policy. */
  @Column({ name: 'retry_policy', type: 'jsonb', nullable: true })
  retryPolicy: Record<string, unknown> | null;

  @Column({ name: 'retry_count', type: 'int', default: 0 })
  retryCount: number;

  /**
   * `retry_count` when its journal (Restate SDK deployments) last grew: the attempts that failed
   * since are what Restate's protocol calls `retry_count_since_last_stored_entry`.
   */
  @Column({ name: 'journal_retry_base', type: 'int', default: 0 })
  journalRetryBase: number;

  @Column({ name: 'next_retry_at', type: 'timestamptz', nullable: true })
  nextRetryAt: Date | null;

  @Column({ name: 'last_failure', type: 'text', nullable: true })
  lastFailure: string | null;

  @Column({ name: 'last_failure_code', type: 'int', nullable: true })
  lastFailureCode: number | null;

  @Column({ type: 'bytea', nullable: true })
  output: Buffer | null;

  @Column({ name: 'output_content_type', type: 'text', nullable: true })
  outputContentType: string | null;

  @Column({ name: 'lease_owner', type: 'text', nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /** Fencing token: bumped on every claim; completion must present the epoch it claimed with. */
  @Column({ type: 'int', default: 0 })
  epoch: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'modified_at', type: 'timestamptz', default: () => 'now()' })
  modifiedAt: Date;

  @Column({ name: 'inboxed_at', type: 'timestamptz', nullable: true })
  inboxedAt: Date | null;

  @Column({ name: 'scheduled_at', type: 'timestamptz', nullable: true })
  scheduledAt: Date | null;

  @Column({ name: 'running_at', type: 'timestamptz', nullable: true })
  runningAt: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;
}

/**
 * What an invocation was called with: written once with it, deleted with it (there is no foreign
 * key, whose check would cost on every insert: deletes of invocations delete these too).
 */
@Entity({ name: 'invocation_payloads' })
export class InvocationPayloadEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_invocation_payloads' })
  id: string;

  @Column({ type: 'bytea', nullable: true })
  input: Buffer | null;

  /**
   * Request headers given to the handler: Kafka metadata plus the record's UTF-8 headers. `json`,
   * not `jsonb`: a header may hold U+0000, which `json` keeps (escaped) and `jsonb` refuses.
   */
  @Column({ type: 'json', default: () => "'{}'" })
  headers: Record<string, string>;

  /** Record headers whose values are not valid UTF-8, base64. */
  @Column({ name: 'raw_headers', type: 'json', nullable: true })
  rawHeaders: Record<string, string> | null;
}
