import { Injectable, OnModuleDestroy } from '@nestjs/common';
import {
  Bus,
  ControlAction,
  encodeBusMessage,
  InvocationControl,
  KafkajsProducer,
  orderingKey,
  RecordProducer,
} from '@tributary/shared';

/** The invocation a control message is about, and where its commands travel on the bus. */
export interface ControlAddress {
  id: string;
  service: string;
  key: string;
  serviceTy: string;
  /** The bus partition its command arrived on; null only for rows older than that column. */
  busPartition: number | null;
}

/**
 * Tells the invoker that owns an invocation to act on it, by producing an `InvocationControl` to
 * the bus partition its command arrived on: the invoker owning that partition is the one holding
 * it in its queues. The producer connects on first use; a failed one is dropped and made anew.
 */
@Injectable()
export class InvocationControlSender implements OnModuleDestroy {
  private producer?: RecordProducer;

  constructor(private readonly bus: Bus) {}

  async send(to: ControlAddress, action: ControlAction): Promise<void> {
    const message: InvocationControl = { type: 'control', v: 1, id: to.id, action };
    const producer = (this.producer ??= KafkajsProducer.create(this.bus.kafka));
    try {
      await producer.send(this.bus.topics.invocations, [
        {
          key: orderingKey(to.service, to.key, to.id, to.serviceTy !== 'SERVICE'),
          ...encodeBusMessage(message),
          // Without a recorded partition, the key's partition is where its commands went.
          partition: to.busPartition ?? undefined,
        },
      ]);
    } catch (err) {
      if (this.producer === producer) this.producer = undefined;
      await producer.close().catch(() => undefined);
      throw err;
    }
  }

  async onModuleDestroy(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }
}
