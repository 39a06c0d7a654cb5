import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  Bus,
  CallCommand,
  ControlAction,
  Delivery,
  encodeBusMessage,
  invocationIdForCall,
  KafkajsProducer,
  orderingKey,
  RecordProducer,
  WakeAddress,
} from '@tributary/shared';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  buildMessage,
  CompletionResult,
  MessageType,
  pb,
  RawMessage,
  RestateRuntime,
  NotificationResult,
  resultField,
} from '@tributary/shared/restate';

import { HandlerRegistry } from './handler.registry';
import type { ClaimedInvocation, PromiseResult } from './invocation.store';
import { InvocationStore } from './invocation.store';

/**
 * Puts what the invoker makes for other invocations on the bus: calls and sends of Restate SDK
 * handlers (as commands, keyed like any command of their target) and `wake` control messages
 * for invocations something was delivered to. The producer connects on first use.
 */
@Injectable()
export class BusSender implements OnModuleDestroy {
  private readonly logger = new Logger('bus-sender');
  private producer?: RecordProducer;

  constructor(@Inject(Bus) private readonly bus: Bus) {}

  async calls(commands: CallCommand[]): Promise<void> {
    await this.send(
      commands.map((c) => ({
        key: orderingKey(c.target.service, c.target.key, c.id, c.target.serviceTy !== 'SERVICE'),
        ...encodeBusMessage(c),
      })),
    );
  }

  /**
   * Tells the invokers owning these invocations to look at them again. A lost one only delays:
   * each invoker also sweeps its partitions for suspended invocations that are due.
   */
  async wake(to: WakeAddress[], action: ControlAction = 'wake'): Promise<void> {
    if (to.length === 0) return;
    try {
      await this.send(
        to.map((a) => ({
          key: orderingKey(a.service, a.key, a.id, a.serviceTy !== 'SERVICE'),
          ...encodeBusMessage({ type: 'control', v: 1, id: a.id, action }),
          partition: a.busPartition ?? undefined,
        })),
      );
    } catch (err) {
      this.logger.warn(`sending ${to.length} wake messages failed: ${String(err)}`);
    }
  }

  private async send(records: Parameters<RecordProducer['send']>[1]): Promise<void> {
    if (records.length === 0) return;
    const producer = (this.producer ??= KafkajsProducer.create(this.bus.kafka));
    try {
      await producer.send(this.bus.topics.invocations, records);
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

/** What a Restate SDK invocation asks of the invoker, done with the store and the bus. */
@Injectable()
export class RestateRuntimes {
  constructor(
    @Inject(InvocationStore) private readonly store: InvocationStore,
    @Inject(HandlerRegistry) private readonly registry: HandlerRegistry,
    @Inject(BusSender) private readonly sender: BusSender,
  ) {
    store.outbox.onWake = (to) => sender.wake(to);
  }

  /** The runtime of one claimed invocation: every write fenced by its claim's epoch. */
  for(c: ClaimedInvocation): RestateRuntime {
    return {
      persist: (from, entries, consumed) =>
        this.store.appendJournal(c, c.epoch, from, entries, consumed),
      call: async (call) => {
        const target = await this.registry.resolve(call.service, call.handler);
        if (!target) {
          return {
            error: `the handler calls '${call.service}/${call.handler}', which is not registered`,
          };
        }
        if (target.serviceTy === 'WORKFLOW' && call.key === '') {
          return { error: `the handler calls workflow '${call.service}' without a workflow id` };
        }
        if (call.key.includes('\u0000')) {
          return {
            error: `the handler calls '${call.service}/${call.handler}' with a key holding U+0000 (a NUL byte), which no key may hold`,
          };
        }
        const id = invocationIdForCall(c.id, call.commandIndex);
        await this.sender.calls([
          {
            type: 'call',
            v: 1,
            id,
            target: {
              service: call.service,
              handler: call.handler,
              key: target.serviceTy === 'SERVICE' ? '' : call.key,
              serviceTy: target.serviceTy,
              handlerTy: target.handlerTy,
            },
            callerId: c.id,
            callerCompletionId: call.resultCompletionId,
            headers: call.headers,
            invokeAt: call.invokeAt,
            body: Buffer.from(call.input),
          },
        ]);
        return { invocationId: id };
      },
      promise: async (op) => {
        const { answer, wake } = await this.store.promise(
          { service: c.service, key: c.key, invocationId: c.id, busPartition: c.busPartition },
          {
            ...op,
            result: op.kind === 'complete' ? toPromiseResult(op.result) : undefined,
          },
          promiseNotification,
        );
        await this.sender.wake(wake);
        if (op.kind === 'complete') {
          return buildMessage(MessageType.CompletePromiseCompletionNotification, {
            completionId: op.completionId,
            result:
              answer === 'already'
                ? {
                    case: 'failure',
                    value: { code: 409, message: `promise '${op.name}' already completed` },
                  }
                : { case: 'void', value: {} },
          });
        }
        if (answer === 'waiting' && op.kind === 'get') return undefined;
        return promiseNotification(
          op.kind,
          op.completionId,
          answer === 'waiting' ? undefined : (answer as PromiseResult),
        );
      },
      signal: async (target, signal, result) => {
        const message = buildMessage(MessageType.SignalNotification, {
          signalId:
            'idx' in signal
              ? { case: 'idx', value: signal.idx }
              : { case: 'name', value: signal.name },
          result: resultField(result),
        });
        const dedup = 'idx' in signal ? `s:${signal.idx}` : `n:${signal.name}`;
        await this.sender.wake(await this.store.deliver([{ id: target, dedup, ...message }]));
      },
    };
  }

  /** The notification a caller gets when its callee ends. */
  callResult(
    callee: ClaimedInvocation,
    result: { value: Buffer } | { failure: { code: number; message: string } },
  ): Delivery | undefined {
    if (callee.callerId === null || callee.callerCompletionId === null) return undefined;
    const message = buildMessage(MessageType.CallCompletionNotification, {
      completionId: callee.callerCompletionId,
      result:
        'value' in result
          ? { case: 'value', value: { content: result.value } }
          : { case: 'failure', value: result.failure },
    });
    return { id: callee.callerId, dedup: `c:${callee.callerCompletionId}`, ...message };
  }

  wake(to: WakeAddress[]): Promise<void> {
    return this.sender.wake(to);
  }
}

function toPromiseResult(r: CompletionResult): PromiseResult {
  switch (r.case) {
    case 'value':
      return { value: r.value };
    case 'failure':
      return { failure: { code: r.code, message: r.message } };
    case 'void':
      return { value: new Uint8Array() };
  }
}

function promiseNotification(
  kind: 'get' | 'peek',
  completionId: number,
  result: PromiseResult | undefined,
): RawMessage {
  const field: NotificationResult = !result
    ? { case: 'void', value: {} }
    : 'value' in result
      ? { case: 'value', value: { content: result.value } }
      : { case: 'failure', value: result.failure };
  if (kind === 'peek') {
    return buildMessage(MessageType.PeekPromiseCompletionNotification, {
      completionId,
      result: field,
    });
  }
  if (field?.case === 'void') throw new Error('a promise get is answered only once completed');
  return buildMessage(MessageType.GetPromiseCompletionNotification, {
    completionId,
    result: field as MessageInitShape<
      typeof pb.GetPromiseCompletionNotificationMessageSchema
    >['result'],
  });
}
