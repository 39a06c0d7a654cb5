/**
 * Wire types of the Tributary handler protocol (docs/protocol.md). The invoker and the admin API
 * use them; the SDK keeps its own copy because it may depend on Node built-ins only.
 */

export const PROTOCOL_VERSION = 1;
export const TIMESTAMP_HEADER = 'x-tributary-timestamp';
export const SIGNATURE_HEADER = 'x-tributary-signature';
export const JSON_CONTENT_TYPE = 'application/json';

export const SERVICE_TYPES = ['SERVICE', 'VIRTUAL_OBJECT', 'WORKFLOW'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const HANDLER_TYPES = ['EXCLUSIVE', 'SHARED', 'WORKFLOW'] as const;
export type HandlerType = (typeof HANDLER_TYPES)[number];

// --- Discovery: GET {deployment}/discover -------------------------------------------------

export interface ManifestHandlerInput {
  contentType?: string;
  required?: boolean;
  jsonSchema?: unknown;
}

export interface ManifestHandlerOutput {
  contentType?: string;
  setContentTypeIfEmpty?: boolean;
  jsonSchema?: unknown;
}

/**
 * Retry settings a service or handler may declare, named and shaped as in Restate's endpoint
 * manifest (intervals in milliseconds). They override the invoker's default policy.
 */
export interface ManifestRetryPolicy {
  retryPolicyInitialInterval?: number;
  retryPolicyExponentiationFactor?: number;
  retryPolicyMaxInterval?: number;
  retryPolicyMaxAttempts?: number;
  retryPolicyOnMaxAttempts?: 'PAUSE' | 'KILL';
}

export interface ManifestHandler extends ManifestRetryPolicy {
  name: string;
  /** Absent for SERVICE handlers; always set by the parser for objects and workflows. */
  ty?: HandlerType;
  input?: ManifestHandlerInput;
  output?: ManifestHandlerOutput;
}

export interface ManifestService extends ManifestRetryPolicy {
  name: string;
  ty: ServiceType;
  handlers: ManifestHandler[];
}

export interface EndpointManifest {
  protocolMode: 'REQUEST_RESPONSE';
  minProtocolVersion: number;
  maxProtocolVersion: number;
  services: ManifestService[];
}

// --- Invocation: POST {deployment}/invoke/{service}/{handler} ------------------------------

/** Body of an invoke request. Byte fields are standard base64. */
export interface InvocationRequest {
  invocationId: string;
  service: string;
  handler: string;
  /** Object/workflow key; "" for services. */
  key: string;
  /** 1 on the first try. */
  attempt: number;
  /** Tributary metadata headers plus every record header whose value is valid UTF-8. */
  headers: Record<string, string>;
  /** Record headers whose values are not valid UTF-8, base64. */
  rawHeaders: Record<string, string>;
  contentType?: string;
  body: string;
  /** Full current state of the key, base64 values; absent for services. */
  state?: Record<string, string>;
}

/** State changes as sent on the wire; applied in the order clearAll, clear, set. */
export interface WireStateChanges {
  set?: Record<string, string>;
  clear?: string[];
  clearAll?: boolean;
}

export interface InvocationSuccessResponse {
  ok: true;
  output?: string;
  contentType?: string;
  state?: WireStateChanges;
}

export interface InvocationFailure {
  terminal: boolean;
  message: string;
  code?: number;
}

export interface InvocationFailureResponse {
  ok: false;
  failure: InvocationFailure;
  state?: WireStateChanges;
}

export type InvocationResponse = InvocationSuccessResponse | InvocationFailureResponse;

// --- Decoded outcome, as HandlerClient.invoke returns it ------------------------------------

export interface StateChanges {
  set: ReadonlyMap<string, Buffer>;
  clear: readonly string[];
  clearAll: boolean;
}

export interface InvokeSuccess {
  kind: 'success';
  output: Buffer;
  contentType?: string;
  state: StateChanges;
}

export interface InvokeFailure {
  kind: 'failure';
  terminal: boolean;
  message: string;
  code: number;
  /** Only on a terminal failure: applied with the completion. Retryable failures carry none. */
  state?: StateChanges;
}

export type InvokeOutcome = InvokeSuccess | InvokeFailure;
