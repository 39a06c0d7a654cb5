/**
 * The message a consumer worker puts on the bus for each Kafka record (topic
 * `<prefix>.invocations.v1`), and the control messages the admin API sends down the same
 * partition so that the invoker owning a key sees them in order.
 *
 * An invocation command travels as a Kafka record whose value is the source record's value,
 * byte for byte, and whose header `tributary.command` holds the rest as JSON: no base64, no
 * re-encoding of the payload on the hot path. Control messages are JSON values. Every field is
 * validated on the way in (`decodeBusRecord`): a malformed bus message is reported, never
 * half-used.
 */

import type { HandlerType, ServiceType } from '../protocol/protocol.types';

/** The registry's kinds, as the protocol's manifest names them. */
export type ServiceTy = ServiceType;
export type HandlerTy = HandlerType;

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
  /** The record's own headers with UTF-8 values (the metadata headers: `metadataHeaders`). */
  headers: Record<string, string>;
  /** Record headers whose values are not valid UTF-8, base64. */
  rawHeaders: Record<string, string>;
  /** The record value; null for a null value or when `failure` dropped it. */
  body: Buffer | null;
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

/**
 * An invocation made by another one: a call or one-way send of a Restate SDK handler. Keyed like
 * any command of its target, so it is ordered among the key's invocations; its id is derived from
 * the caller and the call, so a call sent again on replay is the same invocation.
 */
export interface CallCommand {
  type: 'call';
  v: 1;
  id: string;
  target: {
    service: string;
    handler: string;
    key: string;
    serviceTy: ServiceTy;
    handlerTy: HandlerTy | null;
  };
  callerId: string;
  /** The caller's completion the result goes to; null for a one-way send. */
  callerCompletionId: number | null;
  /** Headers the caller gave the call. */
  headers: Record<string, string>;
  /** When a delayed send may run (epoch ms); null = now. */
  invokeAt: number | null;
  body: Buffer | null;
}

export type BusMessage = InvocationCommand | InvocationControl | CallCommand;

/** Header that carries an invocation command's fields (all but the body) as JSON. */
export const COMMAND_HEADER = 'tributary.command';

export interface EncodedBusRecord {
  value: Buffer | null;
  headers?: Record<string, string>;
}

export function encodeBusMessage(message: BusMessage): EncodedBusRecord {
  if (message.type === 'control') return { value: Buffer.from(JSON.stringify(message)) };
  if (message.type === 'call') {
    const { body, ...fields } = message;
    return { value: body, headers: { [COMMAND_HEADER]: JSON.stringify(fields) } };
  }
  return { value: message.body, headers: { [COMMAND_HEADER]: encodeCommandFields(message) } };
}

/** JSON of a string or null (`JSON.stringify` of the field). */
const json = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

function jsonObject(o: object | null): string {
  if (o === null) return 'null';
  for (const _ in o) return JSON.stringify(o);
  return '{}';
}

/** The JSON between the command's fields that vary per record, for one subscription. */
interface CommandTemplate {
  subscriptionId: string;
  service: string;
  handler: string;
  serviceTy: ServiceTy;
  handlerTy: HandlerTy | null;
  topic: string;
  deadLetterTopic: string | null;
  /** From after `id` to the target's `key`. */
  head: string;
  /** From after the target's `key` to the record's `partition`. */
  middle: string;
  deadLetterTopicJson: string;
}

/** The template of the last subscription seen: a worker converts a batch of one at a time. */
let lastTemplate: CommandTemplate | undefined;

function templateFor(c: InvocationCommand): CommandTemplate {
  const t = lastTemplate;
  if (
    t !== undefined &&
    t.subscriptionId === c.subscriptionId &&
    t.service === c.target.service &&
    t.handler === c.target.handler &&
    t.serviceTy === c.target.serviceTy &&
    t.handlerTy === c.target.handlerTy &&
    t.topic === c.record.topic &&
    t.deadLetterTopic === c.deadLetterTopic
  ) {
    return t;
  }
  lastTemplate = {
    subscriptionId: c.subscriptionId,
    service: c.target.service,
    handler: c.target.handler,
    serviceTy: c.target.serviceTy,
    handlerTy: c.target.handlerTy,
    topic: c.record.topic,
    deadLetterTopic: c.deadLetterTopic,
    head:
      `,"subscriptionId":${json(c.subscriptionId)},"target":{"service":${json(c.target.service)}` +
      `,"handler":${json(c.target.handler)},"key":`,
    middle:
      `,"serviceTy":${json(c.target.serviceTy)},"handlerTy":${json(c.target.handlerTy)}}` +
      `,"record":{"topic":${json(c.record.topic)},"partition":`,
    deadLetterTopicJson: json(c.deadLetterTopic),
  };
  return lastTemplate;
}

/**
 * The JSON of a command's fields but the body: exactly `JSON.stringify` of them, in declaration
 * order (the spec checks it). This runs once per record: the parts that are the same for every
 * record of a subscription are kept from the previous call, and only the rest is serialised,
 * which costs about half of `JSON.stringify` of the whole object.
 */
export function encodeCommandFields(c: InvocationCommand): string {
  const t = templateFor(c);
  const r = c.record;
  return (
    `{"type":${json(c.type)},"v":${c.v},"id":${json(c.id)}${t.head}${json(c.target.key)}` +
    `${t.middle}${r.partition},"offset":${json(r.offset)},"timestamp":${json(r.timestamp)}` +
    `,"key":${json(r.key)}},"headers":${jsonObject(c.headers)}` +
    `,"rawHeaders":${jsonObject(c.rawHeaders)},"failure":${json(c.failure)}` +
    `,"retryPolicy":${jsonObject(c.retryPolicy)},"deadLetterTopic":${t.deadLetterTopicJson}}`
  );
}

/** Decodes a bus record: an invocation command (header + raw value) or a control message. */
export function decodeBusRecord(
  value: Buffer | null,
  headers: Record<string, Buffer | undefined>,
): BusMessage {
  const command = headers[COMMAND_HEADER];
  if (command === undefined) return decodeBusMessage(value ?? Buffer.alloc(0));
  const fields = decodeJson(command);
  fields.body = value;
  return validate(fields);
}

export class BusMessageError extends Error {}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isRecordOfStrings = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);

function check(cond: boolean, what: string): void {
  if (!cond) throw new BusMessageError(`invalid bus message: ${what}`);
}

function decodeJson(bytes: Buffer): Record<string, unknown> {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BusMessageError(`invalid bus message: not JSON (${(err as Error).message})`);
  }
  check(typeof m === 'object' && m !== null && !Array.isArray(m), 'not an object');
  return m as Record<string, unknown>;
}

/** Decodes a JSON bus message (a control message, as the admin API sends them). */
export function decodeBusMessage(bytes: Buffer): BusMessage {
  const msg = decodeJson(bytes);
  check(
    msg.type === 'control',
    `a JSON bus message must be a control message, got ${String(msg.type)}`,
  );
  return validate(msg);
}

function validate(msg: Record<string, unknown>): BusMessage {
  check(msg.v === 1, `unsupported version ${String(msg.v)}`);
  check(isString(msg.id) && msg.id.startsWith('inv_'), 'id');
  if (msg.type === 'control') {
    check(['kill', 'cancel', 'pause', 'wake'].includes(msg.action as string), 'control action');
    return msg as unknown as InvocationControl;
  }
  check(msg.type === 'invoke' || msg.type === 'call', `unknown type ${String(msg.type)}`);
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
  if (msg.type === 'call') {
    check(isString(msg.callerId) && msg.callerId.startsWith('inv_'), 'callerId');
    check(
      msg.callerCompletionId === null || Number.isInteger(msg.callerCompletionId),
      'callerCompletionId',
    );
    check(isRecordOfStrings(msg.headers), 'headers');
    check(msg.invokeAt === null || typeof msg.invokeAt === 'number', 'invokeAt');
    check(msg.body === null || Buffer.isBuffer(msg.body), 'body');
    return msg as unknown as CallCommand;
  }
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
  check(msg.body === null || Buffer.isBuffer(msg.body), 'body');
  check(isStringOrNull(msg.failure), 'failure');
  check(msg.retryPolicy === null || typeof msg.retryPolicy === 'object', 'retryPolicy');
  check(isStringOrNull(msg.deadLetterTopic), 'deadLetterTopic');
  return msg as unknown as InvocationCommand;
}

/**
 * The event metadata a handler sees, as in Restate: `restate.subscription.id`, `kafka.offset`,
 * `kafka.partition`, `kafka.timestamp`, `kafka.topic`, `kafka.key` (URL-safe base64 with `=`
 * padding, as Restate sends it; absent for a null key). Derived from the command, not carried
 * twice on the bus.
 */
export function metadataHeaders(command: InvocationCommand): Record<string, string> {
  const { record } = command;
  const meta: Record<string, string> = {
    'restate.subscription.id': command.subscriptionId,
    'kafka.offset': record.offset,
    'kafka.partition': String(record.partition),
    'kafka.timestamp': record.timestamp,
    'kafka.topic': record.topic,
  };
  if (record.key !== null) meta['kafka.key'] = base64UrlPadded(Buffer.from(record.key, 'base64'));
  return meta;
}

/** Restate's `kafka.key`: the URL-safe alphabet with `=` padding (Node's `base64url` has none). */
export function base64UrlPadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The headers a handler gets: the record's own, then the metadata, which always wins. */
export function handlerHeaders(command: InvocationCommand): Record<string, string> {
  return { ...command.headers, ...metadataHeaders(command) };
}
