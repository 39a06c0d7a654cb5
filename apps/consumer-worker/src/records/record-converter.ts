import {
  encodeBusMessage,
  IncomingRecord,
  InvocationCommand,
  invocationIdForRecord,
  orderingKey,
  OutgoingRecord,
} from '@tributary/shared';
import type { SubscriptionSpec } from '../subscriptions/subscription-spec.model';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function splitHeaders(record: IncomingRecord): {
  headers: Record<string, string>;
  rawHeaders: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  const rawHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (value === undefined) continue;
    const text = decodeUtf8(value);
    if (text === undefined) rawHeaders[name] = value.toString('base64');
    else headers[name] = text;
  }
  return { headers, rawHeaders };
}

/** Why this record cannot be delivered, or null when it can. Checked in this order. */
function poisonReason(
  spec: SubscriptionSpec,
  record: IncomingRecord,
  maxRecordBytes: number,
  keyText: string | undefined,
): string | null {
  if (spec.target.serviceTy === null) {
    return `handler '${spec.target.service}/${spec.target.handler}' is not registered (was its deployment removed?); the record was not delivered`;
  }
  if (record.sizeBytes > maxRecordBytes) {
    return `record of ${record.sizeBytes} bytes exceeds the limit of ${maxRecordBytes} bytes (worker.max-record-bytes); the payload was not stored`;
  }
  if (spec.target.serviceTy !== 'SERVICE' && record.key !== null) {
    const what = spec.target.serviceTy === 'WORKFLOW' ? 'workflow' : 'virtual object';
    if (keyText === undefined) {
      return `The Kafka record key must be valid UTF-8 to address a ${what}: key bytes (base64) ${record.key.toString('base64')}`;
    }
    if (keyText.includes('\u0000')) {
      return `The Kafka record key must not contain U+0000 (a NUL byte) to address a ${what}: key bytes (base64) ${record.key.toString('base64')}`;
    }
  }
  return null;
}

/**
 * One invocation command per record. The id comes from the record's coordinates, so reading the
 * record again gives the same command. A record that cannot be delivered still becomes a command,
 * carrying `failure`, so the invoker records a failed invocation and the partition moves on.
 */
export function toInvocationCommand(
  spec: SubscriptionSpec,
  record: IncomingRecord,
  maxRecordBytes: number,
): InvocationCommand {
  const id = invocationIdForRecord(spec.id, record.topic, record.partition, record.offset);
  const keyed = spec.target.serviceTy === 'VIRTUAL_OBJECT' || spec.target.serviceTy === 'WORKFLOW';
  // The key's text is needed only to address an object or workflow: decoded once, here.
  const keyText = keyed && record.key !== null ? decodeUtf8(record.key) : undefined;
  const failure = poisonReason(spec, record, maxRecordBytes, keyText);
  const { headers, rawHeaders } = splitHeaders(record);
  return {
    type: 'invoke',
    v: 1,
    id,
    subscriptionId: spec.id,
    target: {
      service: spec.target.service,
      handler: spec.target.handler,
      // Shown on a failed invocation too, when it is a key an object could have.
      key: keyText !== undefined && !keyText.includes('\u0000') ? keyText : '',
      serviceTy: spec.target.serviceTy ?? 'SERVICE',
      handlerTy: spec.target.handlerTy,
    },
    record: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key === null ? null : record.key.toString('base64'),
    },
    headers,
    rawHeaders,
    body: record.value === null || record.sizeBytes > maxRecordBytes ? null : record.value,
    failure,
    retryPolicy: spec.retryPolicy,
    deadLetterTopic: spec.deadLetterTopic,
  };
}

/** The bus record of a command, keyed so that one object key's commands stay in order. */
export function toBusRecord(command: InvocationCommand): OutgoingRecord {
  const keyed = command.failure === null && command.target.serviceTy !== 'SERVICE';
  const { value, headers } = encodeBusMessage(command);
  return {
    key: orderingKey(command.target.service, command.target.key, command.id, keyed),
    value,
    headers,
  };
}
