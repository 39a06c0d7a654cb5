import { Inject, Injectable } from '@nestjs/common';
import { METRICS_REGISTRY } from '@tributary/shared';
import { Counter, Gauge, Registry } from 'prom-client';

@Injectable()
export class WorkerMetrics {
  readonly recordsConsumed: Counter<'subscription'>;
  readonly commandsEmitted: Counter<'subscription'>;
  readonly poisonRecords: Counter<'subscription'>;
  readonly lag: Gauge<'subscription' | 'partition'>;
  readonly rebalances: Counter<'subscription'>;
  readonly claimedSubscriptions: Gauge;
  readonly handlerRegistered: Gauge<'subscription'>;
  readonly partitionsHeld: Gauge<'subscription'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.recordsConsumed = new Counter({
      name: 'tributary_worker_records_consumed_total',
      help: 'Kafka records read from subscribed topics',
      labelNames: ['subscription'],
      registers,
    });
    this.commandsEmitted = new Counter({
      name: 'tributary_worker_commands_emitted_total',
      help: 'Invocation commands acknowledged by the bus',
      labelNames: ['subscription'],
      registers,
    });
    this.poisonRecords = new Counter({
      name: 'tributary_worker_poison_records_total',
      help: 'Records turned into failed invocations (bad key, too large, handler gone)',
      labelNames: ['subscription'],
      registers,
    });
    this.lag = new Gauge({
      name: 'tributary_worker_lag_records',
      help: 'Records between the last batch handled and the end of the partition',
      labelNames: ['subscription', 'partition'],
      registers,
    });
    this.rebalances = new Counter({
      name: 'tributary_worker_rebalances_total',
      help: 'Consumer group rebalances seen by this worker',
      labelNames: ['subscription'],
      registers,
    });
    this.handlerRegistered = new Gauge({
      name: 'tributary_worker_subscription_handler_registered',
      help: 'Per subscription consumed here: 1 when its handler was registered as the consumer started, 0 when its records become failed invocations',
      labelNames: ['subscription'],
      registers,
    });
    this.partitionsHeld = new Gauge({
      name: 'tributary_worker_subscription_partitions_held',
      help: 'Per active subscription (as last read from Postgres, every second): 1 when this worker holds at least one of its partitions, else 0',
      labelNames: ['subscription'],
      registers,
    });
    this.claimedSubscriptions = new Gauge({
      name: 'tributary_worker_claimed_subscriptions',
      help: 'Subscriptions of which this worker holds at least one partition',
      registers,
    });
  }
}
