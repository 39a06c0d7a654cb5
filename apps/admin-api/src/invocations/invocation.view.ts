import type {
  CompletionResult,
  InvocationAttemptEntity,
  InvocationEntity,
  InvocationPayloadEntity,
  InvocationStatus,
  InvokedBy,
} from '@tributary/shared';
import { decodeJournal, JournalEntryView, StoredJournalMessage } from '@tributary/shared/restate';

/** Restate's `target_service_ty` values in its introspection tables. */
export type TargetServiceTy = 'service' | 'virtual_object' | 'workflow';

/** Where the record of a subscription's invocation came from; 64-bit numbers as decimal strings. */
export interface KafkaCoordinatesView {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string | null;
}

/** One invocation, with the columns of Restate's `sys_invocation` that apply here. */
export interface InvocationView {
  id: string;
  target: string;
  target_service_name: string;
  target_service_key: string | null;
  target_handler_name: string;
  target_service_ty: TargetServiceTy;
  status: InvocationStatus;
  completion_result: CompletionResult | null;
  completion_failure: string | null;
  invoked_by: InvokedBy;
  invoked_by_subscription_id: string | null;
  /** Restate's: the invocation that called or sent to this one (`invoked_by: service`). */
  invoked_by_id: string | null;
  restarted_from: string | null;
  /** Tributary's: a workflow `run` that did not run, recording the run of its workflow id. */
  workflow_run_of: string | null;
  created_at: string;
  modified_at: string;
  inboxed_at: string | null;
  scheduled_at: string | null;
  running_at: string | null;
  completed_at: string | null;
  retry_count: number;
  next_retry_at: string | null;
  last_failure: string | null;
  last_failure_error_code: number | null;
  kafka: KafkaCoordinatesView | null;
  dead_letter_topic: string | null;
  dead_lettered_at: string | null;
}

/** `GET /invocations/{id}`: the invocation, the headers its handler is given, its journal. */
export interface InvocationDetailView extends InvocationView {
  headers: Record<string, string>;
  /** Record headers whose values are not valid UTF-8, base64; null when there are none. */
  raw_headers: Record<string, string> | null;
  /**
   * The journal the invoker stored (Restate SDK deployments), decoded, in order; always present,
   * empty when nothing is stored (docs/admin-api.md says when).
   */
  journal: JournalEntryView[];
  /** Each attempt that failed, oldest first (the console's timeline); [] when none did. */
  attempts: AttemptView[];
}

export interface AttemptView {
  /** 1 for the first attempt that failed, and so on. */
  attempt: number;
  started_at: string | null;
  ended_at: string;
  error_code: number | null;
  failure: string;
}

export interface InvocationPage {
  invocations: InvocationView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** The columns a view is made of: everything but the payloads and the invoker's lease. */
export type InvocationRow = Pick<
  InvocationEntity,
  | 'id'
  | 'targetService'
  | 'targetHandler'
  | 'targetKey'
  | 'serviceTy'
  | 'status'
  | 'completionResult'
  | 'completionFailure'
  | 'invokedBy'
  | 'subscriptionId'
  | 'restartedFrom'
  | 'callerId'
  | 'workflowRunOf'
  | 'createdAt'
  | 'modifiedAt'
  | 'inboxedAt'
  | 'scheduledAt'
  | 'runningAt'
  | 'completedAt'
  | 'retryCount'
  | 'nextRetryAt'
  | 'lastFailure'
  | 'lastFailureCode'
  | 'kafkaTopic'
  | 'kafkaPartition'
  | 'kafkaOffset'
  | 'kafkaTimestamp'
  | 'deadLetterTopic'
  | 'deadLetteredAt'
>;

export type InvocationDetailRow = InvocationRow &
  Pick<InvocationPayloadEntity, 'headers' | 'rawHeaders'> & {
    journal: StoredJournalMessage[];
    attempts: Pick<InvocationAttemptEntity, 'startedAt' | 'endedAt' | 'code' | 'failure'>[];
  };

const SERVICE_TY: Record<string, TargetServiceTy> = {
  SERVICE: 'service',
  VIRTUAL_OBJECT: 'virtual_object',
  WORKFLOW: 'workflow',
};

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toInvocationView(row: InvocationRow): InvocationView {
  const keyed = row.serviceTy !== 'SERVICE';
  return {
    id: row.id,
    target: keyed
      ? `${row.targetService}/${row.targetKey}/${row.targetHandler}`
      : `${row.targetService}/${row.targetHandler}`,
    target_service_name: row.targetService,
    target_service_key: keyed ? row.targetKey : null,
    target_handler_name: row.targetHandler,
    target_service_ty: SERVICE_TY[row.serviceTy] ?? 'service',
    status: row.status,
    completion_result: row.completionResult,
    completion_failure: row.completionFailure,
    invoked_by: row.invokedBy,
    invoked_by_subscription_id: row.subscriptionId,
    invoked_by_id: row.callerId,
    restarted_from: row.restartedFrom,
    workflow_run_of: row.workflowRunOf,
    created_at: row.createdAt.toISOString(),
    modified_at: row.modifiedAt.toISOString(),
    inboxed_at: iso(row.inboxedAt),
    scheduled_at: iso(row.scheduledAt),
    running_at: iso(row.runningAt),
    completed_at: iso(row.completedAt),
    retry_count: row.retryCount,
    next_retry_at: iso(row.nextRetryAt),
    last_failure: row.lastFailure,
    last_failure_error_code: row.lastFailureCode,
    kafka:
      row.kafkaTopic !== null && row.kafkaPartition !== null && row.kafkaOffset !== null
        ? {
            topic: row.kafkaTopic,
            partition: row.kafkaPartition,
            offset: row.kafkaOffset,
            timestamp: row.kafkaTimestamp,
          }
        : null,
    dead_letter_topic: row.deadLetterTopic,
    dead_lettered_at: iso(row.deadLetteredAt),
  };
}

export function toInvocationDetailView(row: InvocationDetailRow): InvocationDetailView {
  return {
    ...toInvocationView(row),
    headers: row.headers,
    raw_headers: row.rawHeaders,
    journal: decodeJournal(row.journal),
    attempts: row.attempts.map((a, i) => ({
      attempt: i + 1,
      started_at: iso(a.startedAt),
      ended_at: a.endedAt.toISOString(),
      error_code: a.code,
      failure: a.failure,
    })),
  };
}
