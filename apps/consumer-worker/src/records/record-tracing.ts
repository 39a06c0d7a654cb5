import {
  ATTR,
  endWithError,
  IncomingRecord,
  InvocationCommand,
  Span,
  SpanKind,
  tracing,
} from '@tributary/shared';
import type { SubscriptionSpec } from '../subscriptions/subscription-spec.model';

/**
 * The spans of one batch, made only when tracing is on: one per record (its conversion and its
 * time in the worker until the bus acknowledged it), parented by the record's `traceparent`, and
 * one for the batch's publication to the bus, linked to every record's span (one span serves
 * many records: links, not parents). Each record's span context replaces `traceparent` and
 * `tracestate` in its command's headers, so the invoker's spans join the same trace.
 */
export class RecordBatchTrace {
  private readonly records: Span[] = [];
  private readonly publish: Span;

  constructor(
    private readonly spec: SubscriptionSpec,
    busTopic: string,
  ) {
    this.publish = tracing.startSpan(`send ${busTopic}`, SpanKind.PRODUCER, {
      [ATTR.messagingSystem]: 'kafka',
      [ATTR.destination]: busTopic,
      [ATTR.operationName]: 'send',
      [ATTR.operationType]: 'send',
      [ATTR.subscriptionId]: spec.id,
    });
  }

  /** A record's span; its context goes into `command.headers` (before the command is encoded). */
  add(record: IncomingRecord, command: InvocationCommand): void {
    const { spec } = this;
    const span = tracing.startSpan(
      `process ${record.topic}`,
      SpanKind.CONSUMER,
      {
        [ATTR.messagingSystem]: 'kafka',
        [ATTR.destination]: record.topic,
        [ATTR.consumerGroup]: spec.groupId,
        [ATTR.partition]: String(record.partition),
        [ATTR.offset]: Number(record.offset),
        [ATTR.operationName]: 'process',
        [ATTR.operationType]: 'process',
        [ATTR.subscriptionId]: spec.id,
        [ATTR.invocationId]: command.id,
        [ATTR.service]: command.target.service,
        [ATTR.handler]: command.target.handler,
        [ATTR.key]: command.target.key,
      },
      tracing.extract(command.headers),
    );
    if (command.failure !== null) span.setAttribute('tributary.failure', command.failure);
    Object.assign(command.headers, tracing.headersOf(span));
    this.publish.addLink({ context: span.spanContext() });
    this.records.push(span);
  }

  /** Ends every span: after the bus acknowledged the batch, or with the error that stopped it. */
  end(error?: unknown): void {
    const message =
      error === undefined
        ? undefined
        : `publishing to the bus failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`;
    this.publish.setAttribute(ATTR.batchCount, this.records.length);
    for (const span of [...this.records, this.publish]) {
      if (message === undefined) span.end();
      else endWithError(span, message);
    }
  }
}
