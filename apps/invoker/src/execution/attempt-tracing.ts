import {
  ATTR,
  Attributes,
  endWithError,
  InvokeOutcome,
  Span,
  SpanKind,
  tracing,
} from '@tributary/shared';
import type { AttemptEnd } from './attempt-outcome';
import type { ClaimedInvocation } from './invocation.store';

/** W3C trace headers for a handler call; undefined when tracing is off. */
export type TraceHeaders = Record<string, string> | undefined;

/**
 * The spans of one attempt: the attempt (parented by the invocation's stored `traceparent`,
 * which the worker set to its record span) and, under it, the handler call, whose W3C context
 * the request carries to the handler. A no-op when tracing is off.
 */
export interface AttemptTrace {
  /**
   * Starts the handler call's span, right before the request is sent; returns the headers that
   * carry its context (undefined when tracing is off).
   */
  callHeaders(protocol: 'tributary' | 'restate'): TraceHeaders;
  /** `headers` plus the call's trace headers, for the HTTP request. */
  withHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined;
  /** Ends the call's span (if a call was made) and the attempt's, with what they came to. */
  end(outcome: InvokeOutcome | 'aborted', end: AttemptEnd): void;
}

const OFF: AttemptTrace = {
  callHeaders: () => undefined,
  withHeaders: (headers) => headers,
  end: () => undefined,
};

export function traceAttempt(c: ClaimedInvocation, attempt: number): AttemptTrace {
  return tracing.on ? new TracedAttempt(c, attempt) : OFF;
}

/** The invocation's identity and, for one from a record, the record's Kafka coordinates. */
function invocationAttributes(c: ClaimedInvocation): Attributes {
  const h = c.headers;
  const attributes: Attributes = {
    [ATTR.invocationId]: c.id,
    [ATTR.service]: c.service,
    [ATTR.handler]: c.handler,
    [ATTR.key]: c.key,
  };
  const topic = h['kafka.topic'];
  if (topic !== undefined) {
    attributes[ATTR.messagingSystem] = 'kafka';
    attributes[ATTR.destination] = topic;
    if (h['kafka.partition'] !== undefined) attributes[ATTR.partition] = h['kafka.partition'];
    if (h['kafka.offset'] !== undefined) attributes[ATTR.offset] = Number(h['kafka.offset']);
  }
  const subscription = h['restate.subscription.id'];
  if (subscription !== undefined) attributes[ATTR.subscriptionId] = subscription;
  return attributes;
}

class TracedAttempt implements AttemptTrace {
  private readonly span: Span;
  private call?: { span: Span; headers: Record<string, string> };

  constructor(
    private readonly c: ClaimedInvocation,
    attempt: number,
  ) {
    this.span = tracing.startSpan(
      `attempt ${c.service}/${c.handler}`,
      SpanKind.INTERNAL,
      { ...invocationAttributes(c), [ATTR.attempt]: attempt, [ATTR.retryCount]: c.retryCount },
      tracing.extract(c.headers),
    );
  }

  callHeaders(protocol: 'tributary' | 'restate'): TraceHeaders {
    if (this.call) return this.call.headers;
    const { c } = this;
    const span = tracing.startSpan(
      `call ${c.service}/${c.handler}`,
      SpanKind.CLIENT,
      {
        [ATTR.invocationId]: c.id,
        [ATTR.service]: c.service,
        [ATTR.handler]: c.handler,
        [ATTR.key]: c.key,
        [ATTR.protocol]: protocol,
      },
      this.span,
    );
    this.call = { span, headers: tracing.headersOf(span) };
    return this.call.headers;
  }

  withHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
    return this.call ? { ...headers, ...this.call.headers } : headers;
  }

  end(outcome: InvokeOutcome | 'aborted', end: AttemptEnd): void {
    const { result } = end;
    if (this.call) {
      const { span } = this.call;
      span.setAttribute(ATTR.outcome, outcome === 'aborted' ? 'aborted' : outcome.kind);
      if (outcome === 'aborted') endWithError(span, 'the request was aborted');
      else if (outcome.kind === 'failure') {
        span.setAttribute(ATTR.failureCode, outcome.code);
        endWithError(span, outcome.message);
      } else span.end();
    }
    this.span.setAttributes({ [ATTR.outcome]: end.kind, [ATTR.status]: result.status });
    const failed = end.kind === 'terminal' || end.kind === 'retryable' || end.kind === 'aborted';
    if (failed) {
      if (result.lastFailureCode !== null) {
        this.span.setAttribute(ATTR.failureCode, result.lastFailureCode);
      }
      endWithError(this.span, result.completionFailure ?? result.lastFailure ?? end.kind);
    } else {
      this.span.end();
    }
  }
}
