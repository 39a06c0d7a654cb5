import { Inject, Injectable } from '@nestjs/common';
import { METRICS_REGISTRY } from '@tributary/shared';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

@Injectable()
export class InvokerMetrics {
  readonly completed: Counter<'result'>;
  readonly attempts: Counter<'outcome'>;
  readonly handlerLatency: Histogram<'service' | 'handler'>;
  readonly inFlight: Gauge;
  readonly invocations: Gauge<'status'>;
  readonly waiting: Gauge<'key_class'>;
  readonly commandsIngested: Counter;
  readonly claims: Counter<'path' | 'result'>;
  readonly badBusMessages: Counter;
  readonly deadLettered: Counter;
  readonly registeredHandlers: Gauge;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.completed = new Counter({
      name: 'tributary_invoker_invocations_completed_total',
      help: 'Invocations completed, by completion result',
      labelNames: ['result'],
      registers,
    });
    this.attempts = new Counter({
      name: 'tributary_invoker_attempts_total',
      help: 'Handler attempts, by outcome (success, terminal, retryable, aborted)',
      labelNames: ['outcome'],
      registers,
    });
    this.handlerLatency = new Histogram({
      name: 'tributary_invoker_handler_duration_seconds',
      help: 'Time from request to response of a handler attempt',
      labelNames: ['service', 'handler'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.registeredHandlers = new Gauge({
      name: 'tributary_invoker_registered_handlers',
      help: 'Handlers the invoker knows where to call (its registry cache, reloaded every 2 s)',
      registers,
    });
    this.inFlight = new Gauge({
      name: 'tributary_invoker_in_flight',
      help: 'Handler requests in flight',
      registers,
    });
    this.invocations = new Gauge({
      name: 'tributary_invoker_invocations',
      help: 'Open invocations scheduled by this invoker, by status',
      labelNames: ['status'],
      registers,
    });
    this.waiting = new Gauge({
      name: 'tributary_invoker_pending',
      help: 'Invocations waiting to run, by key class (exclusive: behind their key; parallel)',
      labelNames: ['key_class'],
      registers,
    });
    this.commandsIngested = new Counter({
      name: 'tributary_invoker_commands_ingested_total',
      help: 'Invocation commands read from the bus and persisted',
      registers,
    });
    this.claims = new Counter({
      name: 'tributary_invoker_claims_total',
      help: 'Invocations this invoker tried to take for a run, by path (insert: started by their insert; handover: claimed with the end of the one before of their key; claim: a claim transaction) and result (claimed, refused)',
      labelNames: ['path', 'result'],
      registers,
    });
    this.badBusMessages = new Counter({
      name: 'tributary_invoker_bad_bus_messages_total',
      help: 'Bus messages that failed validation and were skipped',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'tributary_invoker_dead_lettered_total',
      help: 'Records written to a dead-letter topic',
      registers,
    });
  }
}
