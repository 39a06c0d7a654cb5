import { DescMessage, MessageInitShape, create, toBinary } from '@bufbuild/protobuf';
import { MessageType } from './framing';
import * as pb from './generated/dev/restate/service/protocol_pb';
import {
  JOURNAL_SCHEMAS,
  JOURNAL_VALUE_CAP_BYTES,
  JournalEntryView,
  StoredJournalMessage,
  cappedText,
  decodeJournal,
  journalEntryType,
  valueView,
} from './journal-view';
import { buildMessage } from './messages';

/** A message built with the generated code, stored at `idx` as the invoker stores it. */
function stored<D extends DescMessage>(
  idx: number,
  type: number,
  schema: D,
  init: MessageInitShape<D>,
): StoredJournalMessage {
  return { idx, type, body: toBinary(schema, create(schema, init)) };
}

/** The one entry a single message decodes to. */
function one<D extends DescMessage>(
  type: number,
  schema: D,
  init: MessageInitShape<D>,
): JournalEntryView {
  const [entry] = decodeJournal([stored(0, type, schema, init)]);
  expect(entry.decode_error).toBeNull();
  return entry;
}

const text = (s: string) => ({
  size: Buffer.byteLength(s),
  encoding: 'utf8',
  content: s,
  truncated: false,
});
const value = (s: string) => ({ content: Buffer.from(s) });
const NO_COLUMNS = {
  completed: null,
  invoked_id: null,
  invoked_target: null,
  sleep_wakeup_at: null,
  promise_name: null,
};

describe('journal entry types', () => {
  it('names every command and notification of the protocol as Restate does', () => {
    const names = [...JOURNAL_SCHEMAS.keys()].map(journalEntryType);
    expect(names).toEqual([
      'Command: Input',
      'Command: Output',
      'Command: GetLazyState',
      'Command: SetState',
      'Command: ClearState',
      'Command: ClearAllState',
      'Command: GetLazyStateKeys',
      'Command: GetEagerState',
      'Command: GetEagerStateKeys',
      'Command: GetPromise',
      'Command: PeekPromise',
      'Command: CompletePromise',
      'Command: Sleep',
      'Command: Call',
      'Command: OneWayCall',
      'Command: SendSignal',
      'Command: Run',
      'Command: AttachInvocation',
      'Command: GetInvocationOutput',
      'Command: CompleteAwakeable',
      'Notification: GetLazyState',
      'Notification: GetLazyStateKeys',
      'Notification: GetPromise',
      'Notification: PeekPromise',
      'Notification: CompletePromise',
      'Notification: Sleep',
      'Notification: Call',
      'Notification: CallInvocationId',
      'Notification: Run',
      'Notification: AttachInvocation',
      'Notification: GetInvocationOutput',
      'Notification: Signal',
    ]);
  });

  it('decodes every type it names (no command or notification left without a decoder)', () => {
    const commandsAndNotifications = Object.entries(MessageType).filter(
      ([name]) => name.endsWith('Command') || name.endsWith('Notification'),
    );
    expect(commandsAndNotifications.map(([, code]) => JOURNAL_SCHEMAS.has(code))).not.toContain(
      false,
    );
    // An empty body is a valid protobuf message of every type: each has a description.
    const views = decodeJournal(
      commandsAndNotifications.map(([, type], i) => ({ idx: i, type, body: new Uint8Array() })),
    );
    expect(views.filter((v) => v.decode_error !== null)).toEqual([]);
  });

  it('names an unknown or custom type by its code and keeps its place, undecoded', () => {
    const views = decodeJournal([
      { idx: 0, type: 0xfc01, body: new Uint8Array([1, 2]) },
      { idx: 1, type: 0x0415, body: new Uint8Array() },
    ]);
    expect(views.map((v) => [v.index, v.entry_type, v.entry, v.raw_length])).toEqual([
      [1, 'Custom(0xfc01)', null, 2],
      [2, 'Unknown(0x0415)', null, 0],
    ]);
    expect(views[0].decode_error).toBe(
      'Custom(0xfc01) is not a journal entry type of service protocol V6',
    );
  });

  it('reports a body that does not decode and goes on with the next entry', () => {
    const views = decodeJournal([
      { idx: 0, type: MessageType.RunCommand, body: new Uint8Array([0x5a, 0xff]) },
      stored(1, MessageType.RunCommand, pb.RunCommandMessageSchema, {
        name: 'ok',
        resultCompletionId: 2,
      }),
    ]);
    expect(views[0].entry).toBeNull();
    expect(views[0].decode_error).toMatch(/^RunCommand body does not decode: /);
    expect(views[1].name).toBe('ok');
  });
});

describe('commands', () => {
  it('input: headers and value', () => {
    const e = one(MessageType.InputCommand, pb.InputCommandMessageSchema, {
      headers: [{ key: 'kafka.offset', value: '7' }],
      value: value('{"n":1}'),
    });
    expect(e).toEqual({
      index: 1,
      entry_type: 'Command: Input',
      name: null,
      ...NO_COLUMNS,
      raw_length: expect.any(Number),
      entry: { headers: [{ key: 'kafka.offset', value: '7' }], value: text('{"n":1}') },
      decode_error: null,
    });
  });

  it('output: a value or a failure with its metadata', () => {
    expect(
      one(MessageType.OutputCommand, pb.OutputCommandMessageSchema, {
        result: { case: 'value', value: value('"done"') },
      }).entry,
    ).toEqual({ result: { kind: 'value', value: text('"done"') } });
    expect(
      one(MessageType.OutputCommand, pb.OutputCommandMessageSchema, {
        result: {
          case: 'failure',
          value: { code: 409, message: 'taken', metadata: [{ key: 'k', value: 'v' }] },
        },
      }).entry,
    ).toEqual({
      result: {
        kind: 'failure',
        failure: { code: 409, message: 'taken', metadata: [{ key: 'k', value: 'v' }] },
      },
    });
  });

  it('state: get (eager, lazy), set, clear, clear all, keys', () => {
    expect(
      one(MessageType.GetEagerStateCommand, pb.GetEagerStateCommandMessageSchema, {
        key: Buffer.from('count'),
        result: { case: 'value', value: value('3') },
        name: 'read',
      }),
    ).toMatchObject({
      entry_type: 'Command: GetEagerState',
      name: 'read',
      completed: null,
      entry: { state_key: text('count'), result: { kind: 'value', value: text('3') } },
    });
    expect(
      one(MessageType.GetEagerStateCommand, pb.GetEagerStateCommandMessageSchema, {
        key: Buffer.from('missing'),
        result: { case: 'void', value: {} },
      }).entry,
    ).toEqual({ state_key: text('missing'), result: { kind: 'void' } });
    expect(
      one(MessageType.GetLazyStateCommand, pb.GetLazyStateCommandMessageSchema, {
        key: Buffer.from('count'),
        resultCompletionId: 4,
      }),
    ).toMatchObject({
      completed: false,
      entry: { state_key: text('count'), result_completion_id: 4 },
    });
    expect(
      one(MessageType.SetStateCommand, pb.SetStateCommandMessageSchema, {
        key: Buffer.from('count'),
        value: value('4'),
      }).entry,
    ).toEqual({ state_key: text('count'), value: text('4') });
    expect(
      one(MessageType.ClearStateCommand, pb.ClearStateCommandMessageSchema, {
        key: Buffer.from('count'),
      }).entry,
    ).toEqual({ state_key: text('count') });
    expect(
      one(MessageType.ClearAllStateCommand, pb.ClearAllStateCommandMessageSchema, {}),
    ).toMatchObject({ entry_type: 'Command: ClearAllState', entry: {} });
    expect(
      one(MessageType.GetEagerStateKeysCommand, pb.GetEagerStateKeysCommandMessageSchema, {
        value: { keys: [Buffer.from('a'), Buffer.from('b')] },
      }).entry,
    ).toEqual({ state_keys: [text('a'), text('b')] });
    expect(
      one(MessageType.GetLazyStateKeysCommand, pb.GetLazyStateKeysCommandMessageSchema, {
        resultCompletionId: 5,
      }).entry,
    ).toEqual({ result_completion_id: 5 });
  });

  it('run, completed by its notification with a value, or not yet', () => {
    const views = decodeJournal([
      stored(0, MessageType.RunCommand, pb.RunCommandMessageSchema, {
        name: 'charge',
        resultCompletionId: 1,
      }),
      stored(1, MessageType.RunCompletionNotification, pb.RunCompletionNotificationMessageSchema, {
        completionId: 1,
        result: { case: 'value', value: value('{"ok":true}') },
      }),
      stored(2, MessageType.RunCommand, pb.RunCommandMessageSchema, {
        name: 'ship',
        resultCompletionId: 2,
      }),
    ]);
    expect(views).toEqual([
      {
        index: 1,
        entry_type: 'Command: Run',
        name: 'charge',
        ...NO_COLUMNS,
        completed: true,
        raw_length: views[0].raw_length,
        entry: { result_completion_id: 1 },
        decode_error: null,
      },
      {
        index: 2,
        entry_type: 'Notification: Run',
        name: null,
        ...NO_COLUMNS,
        raw_length: views[1].raw_length,
        entry: { completion_id: 1, result: { kind: 'value', value: text('{"ok":true}') } },
        decode_error: null,
      },
      expect.objectContaining({ index: 3, name: 'ship', completed: false }),
    ]);
  });

  it('run completion with a failure (as the runtime stores a proposed one)', () => {
    const e = one(
      MessageType.RunCompletionNotification,
      pb.RunCompletionNotificationMessageSchema,
      { completionId: 1, result: { case: 'failure', value: { code: 500, message: 'declined' } } },
    );
    expect(e.entry).toEqual({
      completion_id: 1,
      result: { kind: 'failure', failure: { code: 500, message: 'declined', metadata: [] } },
    });
  });

  it('sleep: its wake-up time, completed by its notification', () => {
    const at = Date.UTC(2031, 0, 2, 3, 4, 5, 6);
    const views = decodeJournal([
      stored(0, MessageType.SleepCommand, pb.SleepCommandMessageSchema, {
        wakeUpTime: BigInt(at),
        resultCompletionId: 1,
        name: 'nap',
      }),
      stored(
        1,
        MessageType.SleepCompletionNotification,
        pb.SleepCompletionNotificationMessageSchema,
        { completionId: 1, void: {} },
      ),
    ]);
    expect(views[0]).toMatchObject({
      entry_type: 'Command: Sleep',
      name: 'nap',
      completed: true,
      sleep_wakeup_at: '2031-01-02T03:04:05.006Z',
      entry: { wake_up_time: '2031-01-02T03:04:05.006Z', result_completion_id: 1 },
    });
    expect(views[1]).toMatchObject({
      entry_type: 'Notification: Sleep',
      entry: { completion_id: 1, result: { kind: 'void' } },
    });
  });

  it('call: target, callee id from its CallInvocationId notification, result', () => {
    const views = decodeJournal([
      stored(0, MessageType.CallCommand, pb.CallCommandMessageSchema, {
        serviceName: 'Counter',
        handlerName: 'add',
        key: 'bob',
        parameter: Buffer.from('1'),
        headers: [{ key: 'x-trace', value: 't' }],
        idempotencyKey: 'once',
        invocationIdNotificationIdx: 1,
        resultCompletionId: 2,
      }),
      stored(
        1,
        MessageType.CallInvocationIdCompletionNotification,
        pb.CallInvocationIdCompletionNotificationMessageSchema,
        { completionId: 1, invocationId: 'inv_1callee' },
      ),
      stored(
        2,
        MessageType.CallCompletionNotification,
        pb.CallCompletionNotificationMessageSchema,
        { completionId: 2, result: { case: 'value', value: value('2') } },
      ),
    ]);
    expect(views[0]).toEqual({
      index: 1,
      entry_type: 'Command: Call',
      name: null,
      completed: true,
      invoked_id: 'inv_1callee',
      invoked_target: 'Counter/bob/add',
      sleep_wakeup_at: null,
      promise_name: null,
      raw_length: views[0].raw_length,
      entry: {
        service_name: 'Counter',
        handler_name: 'add',
        service_key: 'bob',
        idempotency_key: 'once',
        headers: [{ key: 'x-trace', value: 't' }],
        parameter: text('1'),
        invocation_id_notification_idx: 1,
        result_completion_id: 2,
      },
      decode_error: null,
    });
    expect(views[1]).toMatchObject({
      entry_type: 'Notification: CallInvocationId',
      invoked_id: 'inv_1callee',
      entry: { completion_id: 1, result: { kind: 'invocation_id', invocation_id: 'inv_1callee' } },
    });
    expect(views[2]).toMatchObject({
      entry_type: 'Notification: Call',
      invoked_id: null,
      entry: { completion_id: 2, result: { kind: 'value', value: text('2') } },
    });
  });

  it('a call whose callee id has not arrived: no invoked_id, not completed', () => {
    const e = one(MessageType.CallCommand, pb.CallCommandMessageSchema, {
      serviceName: 'Greeter',
      handlerName: 'greet',
      invocationIdNotificationIdx: 1,
      resultCompletionId: 2,
    });
    expect(e).toMatchObject({
      completed: false,
      invoked_id: null,
      invoked_target: 'Greeter/greet',
      entry: { service_key: '', idempotency_key: null },
    });
  });

  it('one-way call: target, delay, callee id; never "completed"', () => {
    const at = Date.UTC(2031, 5, 1);
    const views = decodeJournal([
      stored(0, MessageType.OneWayCallCommand, pb.OneWayCallCommandMessageSchema, {
        serviceName: 'Mailer',
        handlerName: 'send',
        parameter: Buffer.from('"hi"'),
        invokeTime: BigInt(at),
        invocationIdNotificationIdx: 3,
      }),
      stored(
        1,
        MessageType.CallInvocationIdCompletionNotification,
        pb.CallInvocationIdCompletionNotificationMessageSchema,
        { completionId: 3, invocationId: 'inv_1mailer' },
      ),
      stored(2, MessageType.OneWayCallCommand, pb.OneWayCallCommandMessageSchema, {
        serviceName: 'Mailer',
        handlerName: 'send',
        invocationIdNotificationIdx: 4,
      }),
    ]);
    expect(views[0]).toMatchObject({
      entry_type: 'Command: OneWayCall',
      completed: null,
      invoked_id: 'inv_1mailer',
      invoked_target: 'Mailer/send',
      entry: {
        parameter: text('"hi"'),
        invoke_time: '2031-06-01T00:00:00.000Z',
        invocation_id_notification_idx: 3,
      },
    });
    expect(views[2]).toMatchObject({ invoked_id: null, entry: { invoke_time: null } });
  });

  it('promises: get, peek, complete, and their notifications', () => {
    const views = decodeJournal([
      stored(0, MessageType.GetPromiseCommand, pb.GetPromiseCommandMessageSchema, {
        key: 'approval',
        resultCompletionId: 1,
      }),
      stored(
        1,
        MessageType.GetPromiseCompletionNotification,
        pb.GetPromiseCompletionNotificationMessageSchema,
        { completionId: 1, result: { case: 'value', value: value('yes') } },
      ),
      stored(2, MessageType.PeekPromiseCommand, pb.PeekPromiseCommandMessageSchema, {
        key: 'other',
        resultCompletionId: 2,
      }),
      stored(
        3,
        MessageType.PeekPromiseCompletionNotification,
        pb.PeekPromiseCompletionNotificationMessageSchema,
        { completionId: 2, result: { case: 'void', value: {} } },
      ),
      stored(4, MessageType.CompletePromiseCommand, pb.CompletePromiseCommandMessageSchema, {
        key: 'done',
        completion: { case: 'completionFailure', value: { code: 400, message: 'no' } },
        resultCompletionId: 3,
      }),
      stored(
        5,
        MessageType.CompletePromiseCompletionNotification,
        pb.CompletePromiseCompletionNotificationMessageSchema,
        { completionId: 3, result: { case: 'void', value: {} } },
      ),
    ]);
    expect(views.map((v) => [v.entry_type, v.promise_name, v.completed])).toEqual([
      ['Command: GetPromise', 'approval', true],
      ['Notification: GetPromise', null, null],
      ['Command: PeekPromise', 'other', true],
      ['Notification: PeekPromise', null, null],
      ['Command: CompletePromise', 'done', true],
      ['Notification: CompletePromise', null, null],
    ]);
    expect(views[1].entry).toEqual({
      completion_id: 1,
      result: { kind: 'value', value: text('yes') },
    });
    expect(views[4].entry).toEqual({
      promise_key: 'done',
      completion: { kind: 'failure', failure: { code: 400, message: 'no', metadata: [] } },
      result_completion_id: 3,
    });
    expect(views[5].entry).toEqual({ completion_id: 3, result: { kind: 'void' } });
  });

  it('lazy state notifications: a value, nothing, the keys', () => {
    const views = decodeJournal([
      stored(
        0,
        MessageType.GetLazyStateCompletionNotification,
        pb.GetLazyStateCompletionNotificationMessageSchema,
        { completionId: 1, result: { case: 'value', value: value('9') } },
      ),
      stored(
        1,
        MessageType.GetLazyStateCompletionNotification,
        pb.GetLazyStateCompletionNotificationMessageSchema,
        { completionId: 2, result: { case: 'void', value: {} } },
      ),
      stored(
        2,
        MessageType.GetLazyStateKeysCompletionNotification,
        pb.GetLazyStateKeysCompletionNotificationMessageSchema,
        { completionId: 3, stateKeys: { keys: [Buffer.from('x')] } },
      ),
    ]);
    expect(views.map((v) => v.entry)).toEqual([
      { completion_id: 1, result: { kind: 'value', value: text('9') } },
      { completion_id: 2, result: { kind: 'void' } },
      { completion_id: 3, result: { kind: 'state_keys', state_keys: [text('x')] } },
    ]);
  });

  it('awakeables: completing one (command) and one completed (signal notification)', () => {
    expect(
      one(MessageType.CompleteAwakeableCommand, pb.CompleteAwakeableCommandMessageSchema, {
        awakeableId: 'sign_1abc',
        result: { case: 'value', value: value('ok') },
      }),
    ).toMatchObject({
      entry_type: 'Command: CompleteAwakeable',
      entry: { awakeable_id: 'sign_1abc', result: { kind: 'value', value: text('ok') } },
    });
    expect(
      one(MessageType.SignalNotification, pb.SignalNotificationMessageSchema, {
        signalId: { case: 'idx', value: 17 },
        result: { case: 'value', value: value('ok') },
      }),
    ).toMatchObject({
      entry_type: 'Notification: Signal',
      completed: null,
      entry: { signal_index: 17, signal_name: null, result: { kind: 'value', value: text('ok') } },
    });
  });

  it('signals: sending one by name, the built-in cancel signal arriving', () => {
    expect(
      one(MessageType.SendSignalCommand, pb.SendSignalCommandMessageSchema, {
        targetInvocationId: 'inv_1other',
        signalId: { case: 'name', value: 'go' },
        result: { case: 'void', value: {} },
        entryName: 'poke',
      }),
    ).toMatchObject({
      entry_type: 'Command: SendSignal',
      name: 'poke',
      entry: {
        target_invocation_id: 'inv_1other',
        signal_index: null,
        signal_name: 'go',
        result: { kind: 'void' },
      },
    });
    expect(
      one(MessageType.SignalNotification, pb.SignalNotificationMessageSchema, {
        signalId: { case: 'idx', value: pb.BuiltInSignal.CANCEL },
        result: { case: 'void', value: {} },
      }).entry,
    ).toEqual({ signal_index: 1, signal_name: null, result: { kind: 'void' } });
  });

  it('attach / get output: each kind of target, and their notifications', () => {
    const views = decodeJournal([
      stored(0, MessageType.AttachInvocationCommand, pb.AttachInvocationCommandMessageSchema, {
        target: { case: 'invocationId', value: 'inv_1x' },
        resultCompletionId: 1,
      }),
      stored(
        1,
        MessageType.AttachInvocationCompletionNotification,
        pb.AttachInvocationCompletionNotificationMessageSchema,
        { completionId: 1, result: { case: 'value', value: value('out') } },
      ),
      stored(
        2,
        MessageType.GetInvocationOutputCommand,
        pb.GetInvocationOutputCommandMessageSchema,
        {
          target: {
            case: 'idempotentRequestTarget',
            value: { serviceName: 'S', handlerName: 'h', idempotencyKey: 'i' },
          },
          resultCompletionId: 2,
        },
      ),
      stored(
        3,
        MessageType.GetInvocationOutputCompletionNotification,
        pb.GetInvocationOutputCompletionNotificationMessageSchema,
        { completionId: 2, result: { case: 'void', value: {} } },
      ),
      stored(4, MessageType.AttachInvocationCommand, pb.AttachInvocationCommandMessageSchema, {
        target: { case: 'workflowTarget', value: { workflowName: 'W', workflowKey: 'k' } },
        resultCompletionId: 3,
      }),
    ]);
    expect(views.map((v) => [v.entry_type, v.completed])).toEqual([
      ['Command: AttachInvocation', true],
      ['Notification: AttachInvocation', null],
      ['Command: GetInvocationOutput', true],
      ['Notification: GetInvocationOutput', null],
      ['Command: AttachInvocation', false],
    ]);
    expect(views.map((v) => v.entry)).toEqual([
      { target: { kind: 'invocation_id', invocation_id: 'inv_1x' }, result_completion_id: 1 },
      { completion_id: 1, result: { kind: 'value', value: text('out') } },
      {
        target: {
          kind: 'idempotent_request',
          service_name: 'S',
          service_key: null,
          handler_name: 'h',
          idempotency_key: 'i',
        },
        result_completion_id: 2,
      },
      { completion_id: 2, result: { kind: 'void' } },
      {
        target: { kind: 'workflow', workflow_name: 'W', workflow_key: 'k' },
        result_completion_id: 3,
      },
    ]);
  });

  it('reads what buildMessage builds (the messages the runtime itself stores)', () => {
    const run = buildMessage(MessageType.RunCommand, { name: 'r', resultCompletionId: 1 });
    expect(decodeJournal([{ idx: 4, ...run }])[0]).toMatchObject({
      index: 5,
      entry_type: 'Command: Run',
      name: 'r',
    });
  });
});

describe('values', () => {
  it('shows valid UTF-8 as text and anything else as base64', () => {
    expect(valueView(Buffer.from('héllo'))).toEqual(text('héllo'));
    expect(valueView(new Uint8Array([0xff, 0x00, 0x01]))).toEqual({
      size: 3,
      encoding: 'base64',
      content: '/wAB',
      truncated: false,
    });
    expect(valueView(new Uint8Array())).toEqual(text(''));
  });

  it('shows the first 4 KiB of a large value and its whole size', () => {
    const big = Buffer.alloc(10_000, 'a');
    expect(valueView(big)).toEqual({
      size: 10_000,
      encoding: 'utf8',
      content: 'a'.repeat(JOURNAL_VALUE_CAP_BYTES),
      truncated: true,
    });
    const binary = Buffer.alloc(10_000, 0xff);
    const shown = valueView(binary);
    expect(shown).toMatchObject({ size: 10_000, encoding: 'base64', truncated: true });
    expect(Buffer.from(shown.content, 'base64')).toHaveLength(JOURNAL_VALUE_CAP_BYTES);
  });

  it('cuts text at a character boundary, never inside one', () => {
    // 'é' is 2 bytes: 4095 bytes of 'a' then 'é' straddles the cap.
    const s = Buffer.from('a'.repeat(JOURNAL_VALUE_CAP_BYTES - 1) + 'é' + 'b');
    const shown = valueView(s);
    expect(shown.content).toBe('a'.repeat(JOURNAL_VALUE_CAP_BYTES - 1));
    expect(shown.truncated).toBe(true);
  });

  it('caps a huge run result inside a journal entry', () => {
    const e = one(
      MessageType.RunCompletionNotification,
      pb.RunCompletionNotificationMessageSchema,
      {
        completionId: 1,
        result: { case: 'value', value: { content: Buffer.alloc(1_000_000, 'x') } },
      },
    );
    expect(e.raw_length).toBeGreaterThan(1_000_000);
    expect(e.entry?.result?.value).toMatchObject({ size: 1_000_000, truncated: true });
    expect(JSON.stringify(e).length).toBeLessThan(JOURNAL_VALUE_CAP_BYTES + 500);
  });

  it('caps long failure messages and header values, saying how long they were', () => {
    const long = 'e'.repeat(5000);
    expect(cappedText(long)).toBe(`${'e'.repeat(JOURNAL_VALUE_CAP_BYTES)} … (5000 bytes in all)`);
    expect(cappedText('short')).toBe('short');
  });
});
