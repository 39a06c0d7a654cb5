/** The admin API's answers as the console reads them (docs/admin-api.md). */

export type SubscriptionStatus = 'active' | 'paused';

export interface Subscription {
  id: string;
  source: string;
  sink: string;
  options: Record<string, string>;
  status: SubscriptionStatus;
  dead_letter_topic: string | null;
  warnings: string[];
  created_at: string;
  updated_at: string;
}

export interface PartitionStatus {
  partition: number;
  committed_offset: number | null;
  end_offset: number;
  lag: number | null;
  worker: string | null;
}

export interface SubscriptionDetail extends Subscription {
  partitions: PartitionStatus[];
  partitions_error: string | null;
}

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

export interface Invocation {
  id: string;
  target: string;
  target_service_name: string;
  target_service_key: string | null;
  target_handler_name: string;
  target_service_ty: string;
  status: InvocationStatus;
  completion_result: 'success' | 'failure' | null;
  completion_failure: string | null;
  invoked_by: string;
  invoked_by_subscription_id: string | null;
  /** The invocation that called or sent to this one (`invoked_by: service`). */
  invoked_by_id?: string | null;
  restarted_from: string | null;
  /** A workflow `run` that did not run: the run of its workflow id. */
  workflow_run_of?: string | null;
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
  kafka: { topic: string; partition: number; offset: string; timestamp: string | null } | null;
  dead_letter_topic: string | null;
  dead_lettered_at: string | null;
}

/** One entry of the journal, when the admin API returns one (Restate SDK invocations). */
export interface JournalEntry {
  index?: number;
  [field: string]: unknown;
}

export interface InvocationDetail extends Invocation {
  headers: Record<string, string>;
  raw_headers: Record<string, string> | null;
  journal?: JournalEntry[];
  /** Each attempt that failed, oldest first. */
  attempts?: FailedAttempt[];
}

export interface FailedAttempt {
  attempt: number;
  started_at: string | null;
  ended_at: string;
  error_code: number | null;
  failure: string;
}

export interface InvocationPage {
  invocations: Invocation[];
  next_cursor: string | null;
}

export interface DeploymentSummary {
  id: string;
  uri: string;
  protocol_type: string;
  http_version?: string;
  created_at: string;
  services: { name: string; revision: number }[];
}

/** `GET /deployment-health`: a TCP probe of each deployment and its failing invocations. */
export interface DeploymentHealth {
  id: string;
  uri: string;
  discovered_at: string;
  reachable: boolean;
  probe_error: string | null;
  probed_at: string;
  failing: number;
  last_failure: string | null;
  last_failure_at: string | null;
}

export interface Handler {
  name: string;
  ty?: string;
}

export interface Service {
  name: string;
  ty: string;
  deployment_id: string;
  revision: number;
  handlers: Handler[];
}

export interface KafkaCluster {
  name: string;
  properties: Record<string, string>;
  created_at: string;
  source: 'config' | 'api';
}
