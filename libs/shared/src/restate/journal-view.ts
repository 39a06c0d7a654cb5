// A stored journal (Restate service protocol messages after the input) as people read it: one
// entry per message, in the shape of Restate's `sys_journal` introspection table, each message
// decoded with the generated protobuf code, values shown as text or base64 with a size cap.
import { DescMessage, fromBinary } from '@bufbuild/protobuf';
import * as pb from './generated/dev/restate/service/protocol_pb';
import { MessageType, isCommand, isNotification, messageTypeName } from './framing';

/** Bytes of a value (or of a string) shown; the rest is elided, its total size given. */
export const JOURNAL_VALUE_CAP_BYTES = 4096;

/** A value (bytes): the first {@link JOURNAL_VALUE_CAP_BYTES} as UTF-8 text when the whole value is valid UTF-8, else as base64. */
export interface JournalValueView {
  /** Bytes of the whole value. */
  size: number;
  encoding: 'utf8' | 'base64';
  /** The value, or its first bytes when `truncated`. */
  content: string;
  truncated: boolean;
}

export interface JournalFailureView {
  code: number;
  /** Cut at the cap, with ` … (N bytes in all)` appended, when longer. */
  message: string;
  metadata: { key: string; value: string }[];
}

/** One arm of the protocol's `result` oneofs; null where the message carries none. */
export interface JournalResultView {
  kind: 'void' | 'value' | 'failure' | 'invocation_id' | 'state_keys';
  value?: JournalValueView;
  failure?: JournalFailureView;
  invocation_id?: string;
  state_keys?: JournalValueView[];
}

/** Target of AttachInvocation / GetInvocationOutput. */
export interface JournalInvocationTargetView {
  kind: 'invocation_id' | 'idempotent_request' | 'workflow';
  invocation_id?: string;
  service_name?: string;
  service_key?: string | null;
  handler_name?: string;
  idempotency_key?: string;
  workflow_name?: string;
  workflow_key?: string;
}

/**
 * The decoded message, in snake_case. Which fields are present depends on `entry_type` (the table
 * in docs/admin-api.md); a field of a message is always present for that type, null when the
 * protocol makes it optional and it is absent.
 */
export interface JournalEntryDetail {
  headers?: { key: string; value: string }[];
  value?: JournalValueView | null;
  result?: JournalResultView | null;
  state_key?: JournalValueView;
  state_keys?: JournalValueView[];
  promise_key?: string;
  completion?: JournalResultView | null;
  wake_up_time?: string;
  service_name?: string;
  handler_name?: string;
  service_key?: string;
  idempotency_key?: string | null;
  parameter?: JournalValueView;
  invoke_time?: string | null;
  invocation_id_notification_idx?: number;
  result_completion_id?: number;
  completion_id?: number;
  target_invocation_id?: string;
  signal_index?: number | null;
  signal_name?: string | null;
  target?: JournalInvocationTargetView | null;
  awakeable_id?: string;
}

/** One journal entry, after Restate's `sys_journal` columns. */
export interface JournalEntryView {
  /** Restate's numbering: 0 is the input command, so the first stored entry is 1. */
  index: number;
  /** `Command: Run`, `Notification: Run`, `Notification: Signal`, ... (Restate's names); `Unknown(0x…)` / `Custom(0x…)` otherwise. */
  entry_type: string;
  /** The command's name (`ctx.run("name", …)`); null when empty and for notifications. */
  name: string | null;
  /** For a command awaiting a completion: whether the journal holds it. Null otherwise. */
  completed: boolean | null;
  /** Call / one-way call (and its CallInvocationId notification): the callee's invocation id, once known. */
  invoked_id: string | null;
  /** Call / one-way call: `Service/handler` or `Service/key/handler`. */
  invoked_target: string | null;
  /** Sleep: when it wakes up (ISO 8601). */
  sleep_wakeup_at: string | null;
  /** GetPromise / PeekPromise / CompletePromise: the promise's name. */
  promise_name: string | null;
  /** Bytes of the stored protobuf body. */
  raw_length: number;
  /** The decoded message; null when the type has no decoder here or the body does not decode. */
  entry: JournalEntryDetail | null;
  /** Why `entry` is null; null when it is not. */
  decode_error: string | null;
}

/** A stored journal message: position after the input (0 = first stored entry), type, body. */
export interface StoredJournalMessage {
  idx: number;
  type: number;
  body: Uint8Array;
}

/** The generated schema of every command and notification of the protocol (V6 revision). */
export const JOURNAL_SCHEMAS: ReadonlyMap<number, DescMessage> = new Map<number, DescMessage>([
  [MessageType.InputCommand, pb.InputCommandMessageSchema],
  [MessageType.OutputCommand, pb.OutputCommandMessageSchema],
  [MessageType.GetLazyStateCommand, pb.GetLazyStateCommandMessageSchema],
  [MessageType.SetStateCommand, pb.SetStateCommandMessageSchema],
  [MessageType.ClearStateCommand, pb.ClearStateCommandMessageSchema],
  [MessageType.ClearAllStateCommand, pb.ClearAllStateCommandMessageSchema],
  [MessageType.GetLazyStateKeysCommand, pb.GetLazyStateKeysCommandMessageSchema],
  [MessageType.GetEagerStateCommand, pb.GetEagerStateCommandMessageSchema],
  [MessageType.GetEagerStateKeysCommand, pb.GetEagerStateKeysCommandMessageSchema],
  [MessageType.GetPromiseCommand, pb.GetPromiseCommandMessageSchema],
  [MessageType.PeekPromiseCommand, pb.PeekPromiseCommandMessageSchema],
  [MessageType.CompletePromiseCommand, pb.CompletePromiseCommandMessageSchema],
  [MessageType.SleepCommand, pb.SleepCommandMessageSchema],
  [MessageType.CallCommand, pb.CallCommandMessageSchema],
  [MessageType.OneWayCallCommand, pb.OneWayCallCommandMessageSchema],
  [MessageType.SendSignalCommand, pb.SendSignalCommandMessageSchema],
  [MessageType.RunCommand, pb.RunCommandMessageSchema],
  [MessageType.AttachInvocationCommand, pb.AttachInvocationCommandMessageSchema],
  [MessageType.GetInvocationOutputCommand, pb.GetInvocationOutputCommandMessageSchema],
  [MessageType.CompleteAwakeableCommand, pb.CompleteAwakeableCommandMessageSchema],
  [
    MessageType.GetLazyStateCompletionNotification,
    pb.GetLazyStateCompletionNotificationMessageSchema,
  ],
  [
    MessageType.GetLazyStateKeysCompletionNotification,
    pb.GetLazyStateKeysCompletionNotificationMessageSchema,
  ],
  [MessageType.GetPromiseCompletionNotification, pb.GetPromiseCompletionNotificationMessageSchema],
  [
    MessageType.PeekPromiseCompletionNotification,
    pb.PeekPromiseCompletionNotificationMessageSchema,
  ],
  [
    MessageType.CompletePromiseCompletionNotification,
    pb.CompletePromiseCompletionNotificationMessageSchema,
  ],
  [MessageType.SleepCompletionNotification, pb.SleepCompletionNotificationMessageSchema],
  [MessageType.CallCompletionNotification, pb.CallCompletionNotificationMessageSchema],
  [
    MessageType.CallInvocationIdCompletionNotification,
    pb.CallInvocationIdCompletionNotificationMessageSchema,
  ],
  [MessageType.RunCompletionNotification, pb.RunCompletionNotificationMessageSchema],
  [
    MessageType.AttachInvocationCompletionNotification,
    pb.AttachInvocationCompletionNotificationMessageSchema,
  ],
  [
    MessageType.GetInvocationOutputCompletionNotification,
    pb.GetInvocationOutputCompletionNotificationMessageSchema,
  ],
  [MessageType.SignalNotification, pb.SignalNotificationMessageSchema],
]);

/**
 * Restate's name of an entry type (journal v2: `Command: <type>`, `Notification: <type>`), from
 * the message type's name in the code table; `Unknown(0x…)` / `Custom(0x…)` when not in it.
 */
export function journalEntryType(type: number): string {
  const name = messageTypeName(type);
  if (isCommand(type) && name.endsWith('Command')) {
    return `Command: ${name.slice(0, -'Command'.length)}`;
  }
  if (isNotification(type) && name.endsWith('CompletionNotification')) {
    return `Notification: ${name.slice(0, -'CompletionNotification'.length)}`;
  }
  if (type === MessageType.SignalNotification) return 'Notification: Signal';
  return name;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as text when valid UTF-8, else base64; at most `cap` bytes of them shown. */
export function valueView(bytes: Uint8Array, cap = JOURNAL_VALUE_CAP_BYTES): JournalValueView {
  const size = bytes.length;
  let text: string | undefined;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    if (size <= cap) return { size, encoding: 'utf8', content: text, truncated: false };
    // Cut at a character boundary: back off over continuation bytes (10xxxxxx).
    let end = cap;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    return {
      size,
      encoding: 'utf8',
      content: utf8.decode(bytes.subarray(0, end)),
      truncated: true,
    };
  }
  const shown = size <= cap ? bytes : bytes.subarray(0, cap);
  return {
    size,
    encoding: 'base64',
    content: Buffer.from(shown.buffer, shown.byteOffset, shown.length).toString('base64'),
    truncated: size > cap,
  };
}

/** A string of the protocol (failure message, header value): cut at the cap, its size noted. */
export function cappedText(text: string, cap = JOURNAL_VALUE_CAP_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= cap) return text;
  const cut = valueView(bytes, cap).content;
  return `${cut} … (${bytes.length} bytes in all)`;
}

const headerViews = (headers: pb.Header[]) =>
  headers.map((h) => ({ key: h.key, value: cappedText(h.value) }));

function failureView(f: pb.Failure): JournalFailureView {
  return {
    code: f.code,
    message: cappedText(f.message),
    metadata: f.metadata.map((m) => ({ key: m.key, value: cappedText(m.value) })),
  };
}

type AnyResult =
  | { case: 'void'; value: pb.Void }
  | { case: 'value'; value: pb.Value }
  | { case: 'failure'; value: pb.Failure }
  | { case: 'invocationId'; value: string }
  | { case: 'stateKeys'; value: pb.StateKeys }
  | { case: undefined; value?: undefined };

function resultView(r: AnyResult): JournalResultView | null {
  switch (r.case) {
    case 'void':
      return { kind: 'void' };
    case 'value':
      return { kind: 'value', value: valueView(r.value.content) };
    case 'failure':
      return { kind: 'failure', failure: failureView(r.value) };
    case 'invocationId':
      return { kind: 'invocation_id', invocation_id: r.value };
    case 'stateKeys':
      return { kind: 'state_keys', state_keys: r.value.keys.map((k) => valueView(k)) };
    case undefined:
      return null;
  }
}

const optionalValue = (v: pb.Value | undefined) => (v ? valueView(v.content) : null);

const msToIso = (ms: bigint): string => new Date(Number(ms)).toISOString();

function signalIdView(s: pb.SignalNotificationMessage['signalId']) {
  return {
    signal_index: s.case === 'idx' ? s.value : null,
    signal_name: s.case === 'name' ? s.value : null,
  };
}

function targetView(
  t: pb.AttachInvocationCommandMessage['target'],
): JournalInvocationTargetView | null {
  switch (t.case) {
    case 'invocationId':
      return { kind: 'invocation_id', invocation_id: t.value };
    case 'idempotentRequestTarget':
      return {
        kind: 'idempotent_request',
        service_name: t.value.serviceName,
        service_key: t.value.serviceKey ?? null,
        handler_name: t.value.handlerName,
        idempotency_key: t.value.idempotencyKey,
      };
    case 'workflowTarget':
      return {
        kind: 'workflow',
        workflow_name: t.value.workflowName,
        workflow_key: t.value.workflowKey,
      };
    case undefined:
      return null;
  }
}

/** What one message says, before the journal-wide columns (completed, invoked_id) are filled. */
interface Decoded {
  name: string;
  detail: JournalEntryDetail;
  invokedTarget?: string;
  sleepWakeupAt?: string;
  promiseName?: string;
}

const target = (service: string, key: string, handler: string) =>
  key === '' ? `${service}/${handler}` : `${service}/${key}/${handler}`;

/** The decoded message of `type` (`msg` decoded with that type's schema). */
function describe(type: number, msg: unknown): Decoded {
  switch (type) {
    case MessageType.InputCommand: {
      const m = msg as pb.InputCommandMessage;
      return {
        name: m.name,
        detail: { headers: headerViews(m.headers), value: optionalValue(m.value) },
      };
    }
    case MessageType.OutputCommand: {
      const m = msg as pb.OutputCommandMessage;
      return { name: m.name, detail: { result: resultView(m.result) } };
    }
    case MessageType.GetLazyStateCommand: {
      const m = msg as pb.GetLazyStateCommandMessage;
      return {
        name: m.name,
        detail: { state_key: valueView(m.key), result_completion_id: m.resultCompletionId },
      };
    }
    case MessageType.SetStateCommand: {
      const m = msg as pb.SetStateCommandMessage;
      return {
        name: m.name,
        detail: { state_key: valueView(m.key), value: optionalValue(m.value) },
      };
    }
    case MessageType.ClearStateCommand: {
      const m = msg as pb.ClearStateCommandMessage;
      return { name: m.name, detail: { state_key: valueView(m.key) } };
    }
    case MessageType.ClearAllStateCommand: {
      const m = msg as pb.ClearAllStateCommandMessage;
      return { name: m.name, detail: {} };
    }
    case MessageType.GetLazyStateKeysCommand: {
      const m = msg as pb.GetLazyStateKeysCommandMessage;
      return { name: m.name, detail: { result_completion_id: m.resultCompletionId } };
    }
    case MessageType.GetEagerStateCommand: {
      const m = msg as pb.GetEagerStateCommandMessage;
      return {
        name: m.name,
        detail: { state_key: valueView(m.key), result: resultView(m.result) },
      };
    }
    case MessageType.GetEagerStateKeysCommand: {
      const m = msg as pb.GetEagerStateKeysCommandMessage;
      return {
        name: m.name,
        detail: { state_keys: (m.value?.keys ?? []).map((k) => valueView(k)) },
      };
    }
    case MessageType.GetPromiseCommand:
    case MessageType.PeekPromiseCommand: {
      const m = msg as pb.GetPromiseCommandMessage | pb.PeekPromiseCommandMessage;
      return {
        name: m.name,
        detail: { promise_key: m.key, result_completion_id: m.resultCompletionId },
        promiseName: m.key,
      };
    }
    case MessageType.CompletePromiseCommand: {
      const m = msg as pb.CompletePromiseCommandMessage;
      const c = m.completion;
      const completion =
        c.case === 'completionValue'
          ? resultView({ case: 'value', value: c.value })
          : c.case === 'completionFailure'
            ? resultView({ case: 'failure', value: c.value })
            : null;
      return {
        name: m.name,
        detail: {
          promise_key: m.key,
          completion,
          result_completion_id: m.resultCompletionId,
        },
        promiseName: m.key,
      };
    }
    case MessageType.SleepCommand: {
      const m = msg as pb.SleepCommandMessage;
      const at = msToIso(m.wakeUpTime);
      return {
        name: m.name,
        detail: { wake_up_time: at, result_completion_id: m.resultCompletionId },
        sleepWakeupAt: at,
      };
    }
    case MessageType.CallCommand: {
      const m = msg as pb.CallCommandMessage;
      return {
        name: m.name,
        detail: {
          service_name: m.serviceName,
          handler_name: m.handlerName,
          service_key: m.key,
          idempotency_key: m.idempotencyKey ?? null,
          headers: headerViews(m.headers),
          parameter: valueView(m.parameter),
          invocation_id_notification_idx: m.invocationIdNotificationIdx,
          result_completion_id: m.resultCompletionId,
        },
        invokedTarget: target(m.serviceName, m.key, m.handlerName),
      };
    }
    case MessageType.OneWayCallCommand: {
      const m = msg as pb.OneWayCallCommandMessage;
      return {
        name: m.name,
        detail: {
          service_name: m.serviceName,
          handler_name: m.handlerName,
          service_key: m.key,
          idempotency_key: m.idempotencyKey ?? null,
          headers: headerViews(m.headers),
          parameter: valueView(m.parameter),
          invoke_time: m.invokeTime === 0n ? null : msToIso(m.invokeTime),
          invocation_id_notification_idx: m.invocationIdNotificationIdx,
        },
        invokedTarget: target(m.serviceName, m.key, m.handlerName),
      };
    }
    case MessageType.SendSignalCommand: {
      const m = msg as pb.SendSignalCommandMessage;
      return {
        name: m.entryName,
        detail: {
          target_invocation_id: m.targetInvocationId,
          ...signalIdView(m.signalId),
          result: resultView(m.result),
        },
      };
    }
    case MessageType.RunCommand: {
      const m = msg as pb.RunCommandMessage;
      return { name: m.name, detail: { result_completion_id: m.resultCompletionId } };
    }
    case MessageType.AttachInvocationCommand:
    case MessageType.GetInvocationOutputCommand: {
      const m = msg as pb.AttachInvocationCommandMessage | pb.GetInvocationOutputCommandMessage;
      return {
        name: m.name,
        detail: { target: targetView(m.target), result_completion_id: m.resultCompletionId },
      };
    }
    case MessageType.CompleteAwakeableCommand: {
      const m = msg as pb.CompleteAwakeableCommandMessage;
      return {
        name: m.name,
        detail: { awakeable_id: m.awakeableId, result: resultView(m.result) },
      };
    }
    case MessageType.SleepCompletionNotification: {
      const m = msg as pb.SleepCompletionNotificationMessage;
      return { name: '', detail: { completion_id: m.completionId, result: { kind: 'void' } } };
    }
    case MessageType.CallInvocationIdCompletionNotification: {
      const m = msg as pb.CallInvocationIdCompletionNotificationMessage;
      return {
        name: '',
        detail: {
          completion_id: m.completionId,
          result: { kind: 'invocation_id', invocation_id: m.invocationId },
        },
      };
    }
    case MessageType.GetLazyStateKeysCompletionNotification: {
      const m = msg as pb.GetLazyStateKeysCompletionNotificationMessage;
      return {
        name: '',
        detail: {
          completion_id: m.completionId,
          result: {
            kind: 'state_keys',
            state_keys: (m.stateKeys?.keys ?? []).map((k) => valueView(k)),
          },
        },
      };
    }
    case MessageType.GetLazyStateCompletionNotification:
    case MessageType.GetPromiseCompletionNotification:
    case MessageType.PeekPromiseCompletionNotification:
    case MessageType.CompletePromiseCompletionNotification:
    case MessageType.CallCompletionNotification:
    case MessageType.RunCompletionNotification:
    case MessageType.AttachInvocationCompletionNotification:
    case MessageType.GetInvocationOutputCompletionNotification: {
      const m = msg as { completionId: number; result: AnyResult };
      return { name: '', detail: { completion_id: m.completionId, result: resultView(m.result) } };
    }
    case MessageType.SignalNotification: {
      const m = msg as pb.SignalNotificationMessage;
      return {
        name: '',
        detail: { ...signalIdView(m.signalId), result: resultView(m.result) },
      };
    }
    default:
      throw new Error(`no description for ${messageTypeName(type)}`);
  }
}

/**
 * The journal as {@link JournalEntryView}s, in stored order. Commands are matched with the
 * notifications of their completion ids across the whole journal (`completed`, `invoked_id`).
 * An entry that does not decode keeps its place, with `entry: null` and the reason.
 */
export function decodeJournal(messages: readonly StoredJournalMessage[]): JournalEntryView[] {
  const decoded = messages.map((m) => {
    const schema = JOURNAL_SCHEMAS.get(m.type);
    if (!schema) {
      return {
        m,
        error: `${messageTypeName(m.type)} is not a journal entry type of service protocol V6`,
      };
    }
    try {
      return { m, d: describe(m.type, fromBinary(schema, m.body)) };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return { m, error: `${messageTypeName(m.type)} body does not decode: ${why}` };
    }
  });

  // Completion ids the journal holds a notification for; the callee ids by completion id.
  const completedIds = new Set<number>();
  const calleeIds = new Map<number, string>();
  for (const { d } of decoded) {
    const id = d?.detail.completion_id;
    if (id === undefined) continue;
    completedIds.add(id);
    if (d!.detail.result?.kind === 'invocation_id') {
      calleeIds.set(id, d!.detail.result.invocation_id!);
    }
  }

  return decoded.map(({ m, d, error }) => {
    const detail = d?.detail;
    const awaited = detail?.result_completion_id;
    const idNotification = detail?.invocation_id_notification_idx;
    const ownCallee =
      m.type === MessageType.CallInvocationIdCompletionNotification
        ? detail?.result?.invocation_id
        : undefined;
    return {
      index: m.idx + 1,
      entry_type: journalEntryType(m.type),
      name: d && d.name !== '' ? d.name : null,
      completed: awaited !== undefined ? completedIds.has(awaited) : null,
      invoked_id:
        ownCallee ??
        (idNotification !== undefined ? (calleeIds.get(idNotification) ?? null) : null),
      invoked_target: d?.invokedTarget ?? null,
      sleep_wakeup_at: d?.sleepWakeupAt ?? null,
      promise_name: d?.promiseName ?? null,
      raw_length: m.body.length,
      entry: detail ?? null,
      decode_error: error ?? null,
    };
  });
}
