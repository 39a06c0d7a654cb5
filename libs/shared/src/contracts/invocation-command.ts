/**
 * The message a consumer worker puts on the bus for each Kafka record (topic
 * `<prefix>.invocations.v1`), and the control messages the admin API sends down the same
 * partition so that the invoker owning a key sees them in order.
 *
 * Encoded as JSON; byte fields are base64. Every field is validated on the way in
 * (`decodeBusMessage`): a malformed bus message is reported, never half-used.
 */

export type ServiceTy = 'SERVICE' | 'VIRTUAL_OBJECT' | 'WORKFLOW';
export type HandlerTy = 'EXCLUSIVE' | 'SHARED' | 'WORKFLOW';

export interface InvocationCommand {
  type: 'invoke';
  v: 1;
  id: string;
  subscriptionId: string;
  target: {
    service: string;
    handler: string;
    key: string;
    serviceTy: ServiceTy;
    handlerTy: HandlerTy | null;
  };
  record: {
    topic: string;
    partition: number;
    offset: string;
    timestamp: string;
    /** base64 of the record key bytes, or null. */
    key: string | null;
  };
  /** Metadata headers plus the record's UTF-8 headers. */
  headers: Record<string, string>;
  /** Record headers whose values are not valid UTF-8, base64. */
  rawHeaders: Record<string, string>;
  /** base64 of the record value; null for a null value or when `failure` dropped it. */
  body: string | null;
  /** Set for a poison record: the invocation is recorded as failed with this message. */
  failure: string | null;
  /** Per-subscription retry policy override, if any. */
  retryPolicy: Record<string, unknown> | null;
  /** The subscription's dead-letter topic at the time the record was read, if any. */
  deadLetterTopic: string | null;
}

/**
 * `wake`: the row changed in Postgres (resumed, killed while not running, restarted as new):
 * reload it. `kill`/`cancel`/`pause`: act on the invocation, aborting its request if running.
 */
export type ControlAction = 'kill' | 'cancel' | 'pause' | 'wake';

/** Sent by the admin API, keyed like the invocation, so the owning invoker acts on it. */
export interface InvocationControl {
  type: 'control';
  v: 1;
  id: string;
  action: ControlAction;
}

export type BusMessage = InvocationCommand | InvocationControl;

/** The bus key: every message for one object/workflow key lands on one partition, in order. */
export function orderingKey(
  service: string,
  key: string,
  invocationId: string,
  keyed: boolean,
): string {
  return keyed ? `${service}\u0000${key}` : invocationId;
}

export function encodeBusMessage(message: BusMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}

export class BusMessageError extends Error {}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isRecordOfStrings = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);

function check(cond: boolean, what: string): void {
  if (!cond) throw new BusMessageError(`invalid bus message: ${what}`);
}

export function decodeBusMessage(bytes: Buffer): BusMessage {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BusMessageError(`invalid bus message: not JSON (${(err as Error).message})`);
  }
  check(typeof m === 'object' && m !== null, 'not an object');
  const msg = m as Record<string, unknown>;
  check(msg.v === 1, `unsupported version ${String(msg.v)}`);
  check(isString(msg.id) && msg.id.startsWith('inv_'), 'id');
  if (msg.type === 'control') {
    check(['kill', 'cancel', 'pause', 'wake'].includes(msg.action as string), 'control action');
    return msg as unknown as InvocationControl;
  }
  check(msg.type === 'invoke', `unknown type ${String(msg.type)}`);
  const t = msg.target as Record<string, unknown> | undefined;
  check(!!t && isString(t.service) && isString(t.handler) && isString(t.key), 'target');
  check(
    ['SERVICE', 'VIRTUAL_OBJECT', 'WORKFLOW'].includes(t!.serviceTy as string),
    'target.serviceTy',
  );
  check(
    t!.handlerTy === null || ['EXCLUSIVE', 'SHARED', 'WORKFLOW'].includes(t!.handlerTy as string),
    'target.handlerTy',
  );
  const r = msg.record as Record<string, unknown> | undefined;
  check(
    !!r &&
      isString(r.topic) &&
      typeof r.partition === 'number' &&
      isString(r.offset) &&
      isString(r.timestamp) &&
      isStringOrNull(r.key),
    'record',
  );
  check(isString(msg.subscriptionId), 'subscriptionId');
  check(isRecordOfStrings(msg.headers) && isRecordOfStrings(msg.rawHeaders), 'headers');
  check(isStringOrNull(msg.body) && isStringOrNull(msg.failure), 'body/failure');
  check(msg.retryPolicy === null || typeof msg.retryPolicy === 'object', 'retryPolicy');
  check(isStringOrNull(msg.deadLetterTopic), 'deadLetterTopic');
  return msg as unknown as InvocationCommand;
}

/** True when at most one invocation per key may run: VO exclusive handlers and workflow `run`. */
export function isExclusive(serviceTy: ServiceTy, handlerTy: HandlerTy | null): boolean {
  if (serviceTy === 'SERVICE') return false;
  return handlerTy === 'EXCLUSIVE' || handlerTy === 'WORKFLOW' || handlerTy === null;
}
