import { isUtf8 } from 'node:buffer';
import { InvocationRequest } from './protocol.types';

export interface RecordHeader {
  key: string;
  value: Uint8Array | string | null | undefined;
}

export interface InvocationRequestInput {
  invocationId: string;
  service: string;
  handler: string;
  key: string;
  attempt: number;
  /** Tributary metadata (`kafka.offset`, `restate.subscription.id`, ...). */
  metadata: Readonly<Record<string, string>>;
  /** The Kafka record's own headers, in record order. */
  recordHeaders?: readonly RecordHeader[];
  body: Uint8Array | null | undefined;
  contentType?: string;
  /** Current state of the key; leave undefined for services. */
  state?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Builds the wire request. Record headers with a valid UTF-8 value go to `headers`, the others to
 * `rawHeaders` as base64. A repeated record header keeps its last value, and metadata wins over a
 * record header of the same name so a producer cannot forge `kafka.offset` and friends.
 */
export function encodeInvocationRequest(input: InvocationRequestInput): InvocationRequest {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const rawHeaders: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const { key, value } of input.recordHeaders ?? []) {
    placeHeader(headers, rawHeaders, key, value);
  }
  for (const [key, value] of Object.entries(input.metadata)) {
    delete rawHeaders[key];
    headers[key] = value;
  }
  const request: InvocationRequest = {
    invocationId: input.invocationId,
    service: input.service,
    handler: input.handler,
    key: input.key,
    attempt: input.attempt,
    headers: { ...headers },
    rawHeaders: { ...rawHeaders },
    body: toBase64(input.body ?? new Uint8Array(0)),
  };
  if (input.contentType) request.contentType = input.contentType;
  if (input.state) request.state = encodeState(input.state);
  return request;
}

function placeHeader(
  headers: Record<string, string>,
  rawHeaders: Record<string, string>,
  key: string,
  value: RecordHeader['value'],
): void {
  if (value === null || value === undefined || typeof value === 'string') {
    delete rawHeaders[key];
    headers[key] = value ?? '';
  } else if (isUtf8(value)) {
    delete rawHeaders[key];
    headers[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  } else {
    delete headers[key];
    rawHeaders[key] = toBase64(value);
  }
}

function encodeState(state: ReadonlyMap<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries([...state].map(([k, v]) => [k, toBase64(v)]));
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
