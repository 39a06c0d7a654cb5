/**
 * The Tributary handler protocol (docs/protocol.md): its one definition. The SDK serves it, the
 * invoker and the admin API (through `libs/shared/src/protocol`) call it, and both use these
 * types, so they cannot drift apart. Node built-ins only: the SDK depends on nothing else.
 */

export const PROTOCOL_VERSION = 1;
/**
 * Version 2 adds `POST {deployment}/invoke-batch` (several invocations in one request, answered
 * one line each as they end); a deployment announcing it still serves everything of version 1.
 */
export const BATCH_PROTOCOL_VERSION = 2;
/** Content type of a batch answer: one JSON `BatchAnswerLine` per line. */
export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';
export const TIMESTAMP_HEADER = 'x-tributary-timestamp';
export const SIGNATURE_HEADER = 'x-tributary-signature';
/** A unique id per request, covered by the v2 signature: a deployment refuses a nonce seen twice. */
export const NONCE_HEADER = 'x-tributary-nonce';
/** The v2 signature (timestamp, nonce, method, path, body); `x-tributary-signature` keeps v1. */
export const SIGNATURE_V2_HEADER = 'x-tributary-signature-v2';
/** Where a deployment built with the SDK reads its signing key when none is given in code. */
export const SIGNING_KEY_ENV = 'TRIBUTARY_SIGNING_KEY';
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
  /**
   * Never sent by an endpoint of this protocol: set by the admin API on the manifest it stores
   * for an endpoint that speaks Restate's service protocol instead (a Restate SDK service).
   */
  serviceProtocol?: 'restate';
  /** With `serviceProtocol: 'restate'`: how the endpoint is served, as discovery found it. */
  restate?: {
    /** The endpoint manifest's own `protocolMode`. */
    protocolMode: 'BIDI_STREAM' | 'REQUEST_RESPONSE';
    /** The transport discovery reached it over: HTTP/2 cleartext or HTTP/1.1. */
    transport: 'http2' | 'http1';
  };
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

// --- Batch (version 2): POST {deployment}/invoke-batch -------------------------------------

/** Body of a batch request: invocations of any handlers of the deployment. */
export interface BatchRequest {
  requests: InvocationRequest[];
}

/**
 * One line of a batch answer, written when that invocation ends: `status` and `body` are what
 * `POST /invoke/{service}/{handler}` would have answered for `requests[index]`.
 */
export interface BatchAnswerLine {
  index: number;
  status: number;
  body: InvocationResponse;
}
