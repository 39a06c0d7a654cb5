// Typed encode/decode of the protocol messages this library sends or reads, on top of the
// generated protobuf code and the framing.
import {
  DescMessage,
  MessageInitShape,
  MessageShape,
  create,
  fromBinary,
  toBinary,
} from '@bufbuild/protobuf';
import * as pb from './generated/dev/restate/service/protocol_pb';
import { MessageType, RawMessage, encodeFrame, messageTypeName } from './framing';

export { pb };

/** Generated schema for each type code this library decodes or builds. */
export const SCHEMA_BY_TYPE = {
  [MessageType.Start]: pb.StartMessageSchema,
  [MessageType.Suspension]: pb.SuspensionMessageSchema,
  [MessageType.Error]: pb.ErrorMessageSchema,
  [MessageType.End]: pb.EndMessageSchema,
  [MessageType.ProposeRunCompletion]: pb.ProposeRunCompletionMessageSchema,
  [MessageType.InputCommand]: pb.InputCommandMessageSchema,
  [MessageType.OutputCommand]: pb.OutputCommandMessageSchema,
  [MessageType.SetStateCommand]: pb.SetStateCommandMessageSchema,
  [MessageType.ClearStateCommand]: pb.ClearStateCommandMessageSchema,
  [MessageType.ClearAllStateCommand]: pb.ClearAllStateCommandMessageSchema,
  [MessageType.GetEagerStateCommand]: pb.GetEagerStateCommandMessageSchema,
  [MessageType.GetEagerStateKeysCommand]: pb.GetEagerStateKeysCommandMessageSchema,
  [MessageType.RunCommand]: pb.RunCommandMessageSchema,
  [MessageType.RunCompletionNotification]: pb.RunCompletionNotificationMessageSchema,
  [MessageType.SleepCommand]: pb.SleepCommandMessageSchema,
  [MessageType.SleepCompletionNotification]: pb.SleepCompletionNotificationMessageSchema,
  [MessageType.CallCommand]: pb.CallCommandMessageSchema,
  [MessageType.OneWayCallCommand]: pb.OneWayCallCommandMessageSchema,
  [MessageType.CallInvocationIdCompletionNotification]:
    pb.CallInvocationIdCompletionNotificationMessageSchema,
  [MessageType.CallCompletionNotification]: pb.CallCompletionNotificationMessageSchema,
  [MessageType.GetPromiseCommand]: pb.GetPromiseCommandMessageSchema,
  [MessageType.GetPromiseCompletionNotification]: pb.GetPromiseCompletionNotificationMessageSchema,
  [MessageType.PeekPromiseCommand]: pb.PeekPromiseCommandMessageSchema,
  [MessageType.PeekPromiseCompletionNotification]:
    pb.PeekPromiseCompletionNotificationMessageSchema,
  [MessageType.CompletePromiseCommand]: pb.CompletePromiseCommandMessageSchema,
  [MessageType.CompletePromiseCompletionNotification]:
    pb.CompletePromiseCompletionNotificationMessageSchema,
  [MessageType.CompleteAwakeableCommand]: pb.CompleteAwakeableCommandMessageSchema,
  [MessageType.SendSignalCommand]: pb.SendSignalCommandMessageSchema,
  [MessageType.SignalNotification]: pb.SignalNotificationMessageSchema,
} as const;

export type KnownType = keyof typeof SCHEMA_BY_TYPE;

export class ProtocolDecodeError extends Error {
  override readonly name = 'ProtocolDecodeError';
}

/** Decodes a frame's body with the schema for its type. */
export function decodeAs<T extends KnownType>(
  type: T,
  raw: RawMessage,
): MessageShape<(typeof SCHEMA_BY_TYPE)[T]> {
  if (raw.type !== type) {
    throw new ProtocolDecodeError(
      `expected ${messageTypeName(type)}, got ${messageTypeName(raw.type)}`,
    );
  }
  const schema = SCHEMA_BY_TYPE[type] as DescMessage;
  try {
    return fromBinary(schema, raw.body) as MessageShape<(typeof SCHEMA_BY_TYPE)[T]>;
  } catch (e) {
    throw new ProtocolDecodeError(
      `${messageTypeName(raw.type)} body does not decode: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** Builds a message of a given type as a RawMessage (type + protobuf body), ready to frame. */
export function buildMessage<T extends KnownType>(
  type: T,
  init: MessageInitShape<(typeof SCHEMA_BY_TYPE)[T]>,
  flags = 0,
): RawMessage {
  const schema = SCHEMA_BY_TYPE[type] as DescMessage;
  const msg = create(schema, init as MessageInitShape<DescMessage>);
  return { type, flags, body: toBinary(schema, msg) };
}

export function frame(raw: RawMessage): Buffer {
  return encodeFrame(raw.type, raw.body, raw.flags);
}

/**
 * The journal entry the runtime stores for a ctx.run result the SDK proposed: a
 * RunCompletionNotification with the same completion id and result. Replay it (after the
 * RunCommand) so the next attempt reads the result instead of running the closure again.
 */
export function runCompletionFromProposal(proposal: pb.ProposeRunCompletionMessage): RawMessage {
  const result: MessageInitShape<typeof pb.RunCompletionNotificationMessageSchema>['result'] =
    proposal.result.case === 'value'
      ? { case: 'value', value: { content: proposal.result.value } }
      : proposal.result.case === 'failure'
        ? { case: 'failure', value: proposal.result.value }
        : undefined;
  if (!result) {
    throw new ProtocolDecodeError(
      `ProposeRunCompletion for completion ${proposal.resultCompletionId} carries no result`,
    );
  }
  return buildMessage(MessageType.RunCompletionNotification, {
    completionId: proposal.resultCompletionId,
    result,
  });
}

/** A completion's result as the protocol's notifications carry it. */
export type CompletionResult =
  | { case: 'void' }
  | { case: 'value'; value: Uint8Array }
  | { case: 'failure'; code: number; message: string };

/** The `result` oneof of a notification that may be void, a value or a failure. */
export type NotificationResult = MessageInitShape<
  typeof pb.SignalNotificationMessageSchema
>['result'];

/** The `result` oneof of a notification, from a CompletionResult. */
export function resultField(r: CompletionResult): NotificationResult {
  switch (r.case) {
    case 'void':
      return { case: 'void', value: {} };
    case 'value':
      return { case: 'value', value: { content: r.value } };
    case 'failure':
      return { case: 'failure', value: { code: r.code, message: r.message } };
  }
}

/**
 * The completion ids (`c:<id>`) and signals (`s:<idx>`, `n:<name>`) a journal's notifications
 * complete: what the handler has an answer for.
 */
export function notificationKey(m: RawMessage): string | undefined {
  if (m.type < 0x8000 || m.type >= 0xfc00) return undefined;
  // Every notification has its id as the NotificationTemplate's oneof (fields 1-3).
  const { id } = fromBinary(pb.NotificationTemplateSchema, m.body);
  switch (id.case) {
    case 'completionId':
      return `c:${id.value}`;
    case 'signalId':
      return `s:${id.value}`;
    case 'signalName':
      return `n:${id.value}`;
    case undefined:
      return undefined;
  }
}
