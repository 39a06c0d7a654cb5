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
