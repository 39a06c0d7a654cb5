// Framing of Restate's service protocol: every message is an 8-byte header followed by its
// protobuf body. Header layout (big-endian): u16 message type, u16 flags, u32 body length.
// The most significant flag bit is REQUESTED_ACK, meaningful only on ProposeRunCompletion (V7);
// the other 15 bits are reserved.

/**
 * Message type codes, from sdk-shared-core's `src/service_protocol/header.rs` (CommandAck only
 * from the comment in protocol.proto: header.rs no longer lists it).
 */
export const MessageType = {
  Start: 0x0000,
  Suspension: 0x0001,
  Error: 0x0002,
  End: 0x0003,
  CommandAck: 0x0004,
  ProposeRunCompletion: 0x0005,
  // V7 only: never negotiated by this library, listed so a stray one is named in errors.
  AwaitingOn: 0x0006,
  ProposeRunCompletionAck: 0x0007,

  InputCommand: 0x0400,
  OutputCommand: 0x0401,
  GetLazyStateCommand: 0x0402,
  SetStateCommand: 0x0403,
  ClearStateCommand: 0x0404,
  ClearAllStateCommand: 0x0405,
  GetLazyStateKeysCommand: 0x0406,
  GetEagerStateCommand: 0x0407,
  GetEagerStateKeysCommand: 0x0408,
  GetPromiseCommand: 0x0409,
  PeekPromiseCommand: 0x040a,
  CompletePromiseCommand: 0x040b,
  SleepCommand: 0x040c,
  CallCommand: 0x040d,
  OneWayCallCommand: 0x040e,
  SendSignalCommand: 0x0410,
  RunCommand: 0x0411,
  AttachInvocationCommand: 0x0412,
  GetInvocationOutputCommand: 0x0413,
  CompleteAwakeableCommand: 0x0414,

  GetLazyStateCompletionNotification: 0x8002,
  GetLazyStateKeysCompletionNotification: 0x8006,
  GetPromiseCompletionNotification: 0x8009,
  PeekPromiseCompletionNotification: 0x800a,
  CompletePromiseCompletionNotification: 0x800b,
  SleepCompletionNotification: 0x800c,
  CallCompletionNotification: 0x800d,
  CallInvocationIdCompletionNotification: 0x800e,
  RunCompletionNotification: 0x8011,
  AttachInvocationCompletionNotification: 0x8012,
  GetInvocationOutputCompletionNotification: 0x8013,
  SignalNotification: 0xfbff,
} as const;

export type MessageTypeName = keyof typeof MessageType;
export type MessageTypeCode = (typeof MessageType)[MessageTypeName];

const NAMES = new Map<number, MessageTypeName>(
  (Object.entries(MessageType) as [MessageTypeName, number][]).map(([name, code]) => [code, name]),
);

const COMMAND_MIN = 0x0400;
const NOTIFICATION_MIN = 0x8000;
const CUSTOM_MIN = 0xfc00;

/** The table's name for a code, `Custom(0x…)` for the custom range, `Unknown(0x…)` otherwise. */
export function messageTypeName(code: number): string {
  const name = NAMES.get(code);
  if (name !== undefined) return name;
  const hex = `0x${code.toString(16).padStart(4, '0')}`;
  return code >= CUSTOM_MIN ? `Custom(${hex})` : `Unknown(${hex})`;
}

/** Commands (0x0400–0x7FFF) and custom entries (0xFC00–) are journal commands. */
export function isCommand(code: number): boolean {
  return (code >= COMMAND_MIN && code < NOTIFICATION_MIN) || code >= CUSTOM_MIN;
}

/** Notifications: 0x8000–0xFBFF. */
export function isNotification(code: number): boolean {
  return code >= NOTIFICATION_MIN && code < CUSTOM_MIN;
}

export const HEADER_BYTES = 8;
export const REQUESTED_ACK_FLAG = 0x8000;
/** Upper bound on a single message body unless a caller sets its own. */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

export interface RawMessage {
  type: number;
  flags: number;
  body: Uint8Array;
}

export class FramingError extends Error {
  override readonly name = 'FramingError';
}

/** One message: header + body, as one buffer. */
export function encodeFrame(type: number, body: Uint8Array, flags = 0): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) {
    throw new FramingError(`message type ${type} does not fit in 16 bits`);
  }
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
    throw new FramingError(`flags ${flags} do not fit in 16 bits`);
  }
  if (body.length > 0xffffffff) {
    throw new FramingError(`body of ${body.length} bytes does not fit a 32-bit length`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(flags, 2);
  out.writeUInt32BE(body.length, 4);
  out.set(body, HEADER_BYTES);
  return out;
}

export interface FrameDecoderOptions {
  /** A header announcing a larger body is refused before its body is read. */
  maxMessageBytes?: number;
}

/**
 * Streaming decoder: feed it chunks as they arrive, in any sizes, and take whole messages out.
 * Bytes are copied only when a message straddles chunks.
 */
export class FrameDecoder {
  private readonly maxMessageBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes received that do not yet form a whole message. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): RawMessage[] {
    if (chunk.length > 0) {
      this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.pendingBytes += chunk.length;
    }
    const out: RawMessage[] = [];
    for (;;) {
      if (this.pendingBytes < HEADER_BYTES) break;
      const head = this.peek(HEADER_BYTES);
      const type = head.readUInt16BE(0);
      const flags = head.readUInt16BE(2);
      const length = head.readUInt32BE(4);
      if (length > this.maxMessageBytes) {
        throw new FramingError(
          `${messageTypeName(type)} message announces ${length} bytes, over the limit of ${this.maxMessageBytes}`,
        );
      }
      if (this.pendingBytes < HEADER_BYTES + length) break;
      const whole = this.take(HEADER_BYTES + length);
      out.push({ type, flags, body: whole.subarray(HEADER_BYTES) });
    }
    return out;
  }

  /** Call at end of stream: throws if a partial message is left over. */
  end(): void {
    if (this.pendingBytes > 0) {
      throw new FramingError(
        `stream ended inside a message: ${this.pendingBytes} byte(s) left undecoded`,
      );
    }
  }

  private peek(n: number): Buffer {
    const first = this.pending[0];
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.pending, this.pendingBytes).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.pending[0];
    if (first.length >= n) {
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      this.pendingBytes -= n;
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.pending, this.pendingBytes);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return all.subarray(0, n);
  }
}
