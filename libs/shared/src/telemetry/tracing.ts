import {
  Attributes,
  Context,
  Link,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  TextMapGetter,
  TextMapSetter,
  trace,
  Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ConfigEnv, TracingConfig } from '../config/config.types';

/*
 * OpenTelemetry traces of a record's way through Tributary. Off by default: then `tracing.on` is
 * false and callers skip every span (one property read per record, nothing allocated). When on,
 * a record's W3C `traceparent`/`tracestate` headers (or a new trace) parent the worker's span,
 * whose context replaces them in the invocation's headers, so the invoker's attempt spans (and
 * the handler call spans under them) join the same trace after the bus hop and Postgres.
 */

export { SpanKind, SpanStatusCode };
export type { Attributes, Context, Link, Span };

/** Whether OTEL_* variables and the config turn tracing on, and where it exports to. */
export interface TracingSetup {
  on: boolean;
  /** The full OTLP/HTTP traces URL, when the config gives it and no OTEL_* variable does. */
  url?: string;
  serviceName: string;
}

export function tracingSetup(config: TracingConfig, app: string, env: ConfigEnv): TracingSetup {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const disabled =
    env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || exporters.includes('none');
  const on = !disabled && (config.enabled || exporters.includes('otlp'));
  const envEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url =
    config.endpoint !== undefined && !envEndpoint?.trim()
      ? `${config.endpoint.replace(/\/+$/, '')}/v1/traces`
      : undefined;
  return { on, url, serviceName: config.serviceName ?? `tributary-${app}` };
}

class Tracing {
  /** Read on every record: a plain boolean, false unless `startTracing` turned it on. */
  on = false;
  private provider?: BasicTracerProvider;
  private tracer?: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  start(setup: TracingSetup): void {
    if (!setup.on || this.provider) return;
    const resource = resourceFromAttributes({ 'service.name': setup.serviceName }).merge(
      detectResources({ detectors: [envDetector] }),
    );
    const exporter = new OTLPTraceExporter(setup.url === undefined ? {} : { url: setup.url });
    this.provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    this.tracer = this.provider.getTracer('tributary');
    this.on = true;
  }

  /** Exports what is buffered and stops; safe to call when tracing is off. */
  async shutdown(): Promise<void> {
    const provider = this.provider;
    this.provider = undefined;
    this.tracer = undefined;
    this.on = false;
    await provider?.shutdown();
  }

  /** Exports the spans buffered so far (tests, shutdown). */
  async flush(): Promise<void> {
    await this.provider?.forceFlush();
  }

  /** The context a record's headers carry; the root context (a new trace) when none. */
  extract(headers: Readonly<Record<string, string>>): Context {
    return this.propagator.extract(ROOT_CONTEXT, headers, headerGetter);
  }

  /** A span's W3C headers (`traceparent`, and `tracestate` when it has one). */
  headersOf(span: Span): Record<string, string> {
    const out: Record<string, string> = {};
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), out, headerSetter);
    return out;
  }

  /** A link to the context in `headers`, or undefined when they carry none. */
  linkTo(headers: Readonly<Record<string, string>>): Link | undefined {
    const context = trace.getSpanContext(this.extract(headers));
    return context === undefined ? undefined : { context };
  }

  startSpan(
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    parent: Context | Span = ROOT_CONTEXT,
    links?: Link[],
  ): Span {
    if (!this.tracer) throw new Error('tracing is off: check tracing.on before starting a span');
    const context = isSpan(parent) ? trace.setSpan(ROOT_CONTEXT, parent) : parent;
    return this.tracer.startSpan(name, { kind, attributes, links }, context);
  }
}

function isSpan(value: Context | Span): value is Span {
  return typeof (value as Span).spanContext === 'function';
}

const headerGetter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const headerSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** The process's tracing: one per process, started by `startTracing` from its `main`. */
export const tracing = new Tracing();

/** Turns tracing on when the config or OTEL_* variables ask for it; returns whether it is on. */
export function startTracing(config: TracingConfig, app: string, env: ConfigEnv): boolean {
  tracing.start(tracingSetup(config, app, env));
  return tracing.on;
}

/** Ends a span with an error status and the message, as an exception event too. */
export function endWithError(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.recordException({ name: 'Error', message });
  span.end();
}

/** The trace id a log line carries about a record, from its headers; undefined when off. */
export function traceIdOf(headers: Readonly<Record<string, string>>): string | undefined {
  if (!tracing.on) return undefined;
  return trace.getSpanContext(tracing.extract(headers))?.traceId;
}

/** Attribute names: the messaging conventions for Kafka, and Tributary's own. */
export const ATTR = {
  messagingSystem: 'messaging.system',
  destination: 'messaging.destination.name',
  consumerGroup: 'messaging.consumer.group.name',
  offset: 'messaging.kafka.offset',
  partition: 'messaging.destination.partition.id',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  batchCount: 'messaging.batch.message_count',
  invocationId: 'tributary.invocation.id',
  subscriptionId: 'tributary.subscription.id',
  service: 'tributary.service',
  handler: 'tributary.handler',
  key: 'tributary.key',
  attempt: 'tributary.attempt',
  retryCount: 'tributary.retry_count',
  status: 'tributary.invocation.status',
  outcome: 'tributary.attempt.outcome',
  failureCode: 'tributary.failure.code',
  protocol: 'tributary.handler.protocol',
} as const;
