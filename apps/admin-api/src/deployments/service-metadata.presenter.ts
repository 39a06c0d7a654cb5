import type { HandlerEntity, RetryPolicyConfig, ServiceEntity } from '@tributary/shared';

/**
 * Restate's `ServiceMetadata` / `HandlerMetadata` shapes (admin API, 1.7), built from what the
 * registry stores. Restate's CLI deserializes these, so field names and value spellings matter:
 * `ty` is `Service`/`VirtualObject`/`Workflow` and `Exclusive`/`Shared`/`Workflow`, durations are
 * jiff "friendly" strings such as `1d` or `500ms`.
 */

export type StoredServiceType = ServiceEntity['ty'];
export type StoredHandlerType = HandlerEntity['ty'];

export interface HandlerRecord {
  name: string;
  ty: StoredHandlerType;
  inputContentType: string | null;
  /** False when an empty payload is accepted too. */
  inputRequired: boolean;
  outputContentType: string | null;
  inputJsonSchema?: unknown;
  outputJsonSchema?: unknown;
}

export interface ServiceRecord {
  name: string;
  ty: StoredServiceType;
  deploymentId: string;
  revision: number;
  public: boolean;
  handlers: HandlerRecord[];
}

/** Settings that are global in Tributary but per service in Restate's answers. */
export interface ServiceDefaults {
  retentionMs: number;
  retryPolicy: RetryPolicyConfig;
}

export type RestateServiceType = 'Service' | 'VirtualObject' | 'Workflow';
export type RestateHandlerType = 'Exclusive' | 'Shared' | 'Workflow';

export interface HandlerMetadata {
  name: string;
  ty: RestateHandlerType | null;
  public: boolean;
  input_description: string;
  output_description: string;
  input_json_schema?: unknown;
  output_json_schema?: unknown;
  retry_policy: Record<string, never>;
}

export interface ServiceRetryPolicyMetadata {
  initial_interval: string;
  exponentiation_factor: number;
  max_attempts: number;
  max_interval: string;
  on_max_attempts: 'Pause' | 'Kill';
}

export interface ServiceMetadata {
  name: string;
  ty: RestateServiceType;
  handlers: HandlerMetadata[];
  deployment_id: string;
  revision: number;
  public: boolean;
  idempotency_retention: string;
  workflow_completion_retention: string | null;
  inactivity_timeout: string;
  abort_timeout: string;
  enable_lazy_state: boolean;
  retry_policy: ServiceRetryPolicyMetadata;
}

// Restate's defaults; Tributary has no suspension, so they only keep the shape complete.
const INACTIVITY_TIMEOUT_MS = 60_000;
const ABORT_TIMEOUT_MS = 600_000;

const SERVICE_TYPES: Record<StoredServiceType, RestateServiceType> = {
  SERVICE: 'Service',
  VIRTUAL_OBJECT: 'VirtualObject',
  WORKFLOW: 'Workflow',
};

const HANDLER_TYPES: Record<NonNullable<StoredHandlerType>, RestateHandlerType> = {
  EXCLUSIVE: 'Exclusive',
  SHARED: 'Shared',
  WORKFLOW: 'Workflow',
};

export function toServiceMetadata(
  service: ServiceRecord,
  defaults: ServiceDefaults,
): ServiceMetadata {
  const retention = friendlyDuration(defaults.retentionMs);
  const policy = defaults.retryPolicy;
  return {
    name: service.name,
    ty: SERVICE_TYPES[service.ty],
    handlers: service.handlers.map(toHandlerMetadata),
    deployment_id: service.deploymentId,
    revision: service.revision,
    public: service.public,
    idempotency_retention: retention,
    workflow_completion_retention: service.ty === 'WORKFLOW' ? retention : null,
    inactivity_timeout: friendlyDuration(INACTIVITY_TIMEOUT_MS),
    abort_timeout: friendlyDuration(ABORT_TIMEOUT_MS),
    enable_lazy_state: false,
    retry_policy: {
      initial_interval: friendlyDuration(policy.initialIntervalMs),
      exponentiation_factor: policy.exponentiationFactor,
      max_attempts: policy.maxAttempts,
      max_interval: friendlyDuration(policy.maxIntervalMs),
      // Restate knows Pause and Kill; a dead-letter ends the invocation as Kill does.
      on_max_attempts: policy.onMaxAttempts === 'pause' ? 'Pause' : 'Kill',
    },
  };
}

export function toHandlerMetadata(handler: HandlerRecord): HandlerMetadata {
  return {
    name: handler.name,
    ty: handler.ty === null ? null : HANDLER_TYPES[handler.ty],
    public: true,
    input_description: inputDescription(handler),
    output_description: handler.outputContentType ?? 'none',
    ...(handler.inputJsonSchema !== undefined
      ? { input_json_schema: handler.inputJsonSchema }
      : {}),
    ...(handler.outputJsonSchema !== undefined
      ? { output_json_schema: handler.outputJsonSchema }
      : {}),
    // Handler-level overrides: none, the service policy applies.
    retry_policy: {},
  };
}

/** As Restate prints its input rules: `one of ["none", "application/json"]`. */
function inputDescription(handler: HandlerRecord): string {
  const contentType = handler.inputContentType ?? '*/*';
  return handler.inputRequired ? contentType : `one of ["none", "${contentType}"]`;
}

const UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** jiff's compact "friendly" format, which Restate prints and parses: `1d`, `1h 30m`, `500ms`. */
export function friendlyDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
}
