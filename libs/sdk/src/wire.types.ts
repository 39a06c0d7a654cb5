// The SDK's copy of the wire types it needs (the full set lives in libs/shared/src/protocol,
// which the SDK cannot import: it may depend on Node built-ins only). Keep both in step.

export const TIMESTAMP_HEADER = 'x-tributary-timestamp';
export const SIGNATURE_HEADER = 'x-tributary-signature';
export const NONCE_HEADER = 'x-tributary-nonce';
export const SIGNATURE_V2_HEADER = 'x-tributary-signature-v2';
export const SIGNING_KEY_ENV = 'TRIBUTARY_SIGNING_KEY';

export type ServiceType = 'SERVICE' | 'VIRTUAL_OBJECT' | 'WORKFLOW';
export type HandlerType = 'EXCLUSIVE' | 'SHARED' | 'WORKFLOW';

export interface ManifestHandler {
  name: string;
  ty?: HandlerType;
  input: { contentType: string; required: boolean };
  output: { contentType: string };
}

export interface EndpointManifest {
  protocolMode: 'REQUEST_RESPONSE';
  minProtocolVersion: 1;
  maxProtocolVersion: 1;
  services: { name: string; ty: ServiceType; handlers: ManifestHandler[] }[];
}

export interface InvocationRequest {
  invocationId: string;
  service: string;
  handler: string;
  key: string;
  attempt: number;
  headers: Record<string, string>;
  rawHeaders: Record<string, string>;
  contentType?: string;
  body: string;
  state?: Record<string, string>;
}

export interface WireStateChanges {
  set: Record<string, string>;
  clear: string[];
  clearAll: boolean;
}

export interface InvocationFailure {
  terminal: boolean;
  message: string;
  code: number;
}

export type InvocationResponse =
  | { ok: true; output: string; contentType?: string; state?: WireStateChanges }
  | { ok: false; failure: InvocationFailure; state?: WireStateChanges };
