import {
  FrameDecoder,
  FramingError,
  HEADER_BYTES,
  MessageType,
  REQUESTED_ACK_FLAG,
  encodeFrame,
  isCommand,
  isNotification,
  messageTypeName,
} from './framing';

describe('Restate framing', () => {
  it('writes the header as u16 type, u16 flags, u32 length, all big-endian', () => {
    const frame = encodeFrame(MessageType.RunCommand, Uint8Array.of(1, 2, 3), REQUESTED_ACK_FLAG);
    expect([...frame]).toEqual([0x04, 0x11, 0x80, 0x00, 0, 0, 0, 3, 1, 2, 3]);
  });

  it('encodes an empty body as a bare header', () => {
    expect([...encodeFrame(MessageType.End, new Uint8Array())]).toEqual([0, 3, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses a type or flags outside 16 bits', () => {
    expect(() => encodeFrame(0x10000, new Uint8Array())).toThrow(FramingError);
    expect(() => encodeFrame(1, new Uint8Array(), -1)).toThrow(/flags/);
  });

  it('decodes messages split at every possible byte boundary', () => {
    const stream = Buffer.concat([
      encodeFrame(MessageType.Start, Buffer.from('start')),
      encodeFrame(MessageType.InputCommand, new Uint8Array()),
      encodeFrame(MessageType.SetStateCommand, Buffer.alloc(300, 7), 0x0001),
      encodeFrame(MessageType.End, new Uint8Array()),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const dec = new FrameDecoder();
      const msgs = [...dec.push(stream.subarray(0, cut)), ...dec.push(stream.subarray(cut))];
      dec.end();
      expect(msgs.map((m) => m.type)).toEqual([0x0000, 0x0400, 0x0403, 0x0003]);
      expect(Buffer.from(msgs[0].body).toString()).toBe('start');
      expect(msgs[1].body.length).toBe(0);
      expect(msgs[2].flags).toBe(1);
      expect(Buffer.from(msgs[2].body).equals(Buffer.alloc(300, 7))).toBe(true);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const stream = Buffer.concat([
      encodeFrame(MessageType.OutputCommand, Buffer.from('abc')),
      encodeFrame(MessageType.End, new Uint8Array()),
    ]);
    const dec = new FrameDecoder();
    const msgs = [];
    for (const b of stream) msgs.push(...dec.push(Uint8Array.of(b)));
    dec.end();
    expect(msgs.map((m) => [messageTypeName(m.type), Buffer.from(m.body).toString()])).toEqual([
      ['OutputCommand', 'abc'],
      ['End', ''],
    ]);
  });

  it('keeps the bytes of a partial message and complains if the stream ends there', () => {
    const frame = encodeFrame(MessageType.OutputCommand, Buffer.from('abcdef'));
    const dec = new FrameDecoder();
    expect(dec.push(frame.subarray(0, HEADER_BYTES + 2))).toEqual([]);
    expect(dec.bufferedBytes).toBe(HEADER_BYTES + 2);
    expect(() => dec.end()).toThrow(/ended inside a message: 10 byte/);
  });

  it('refuses a header that announces more than maxMessageBytes, before the body arrives', () => {
    const dec = new FrameDecoder({ maxMessageBytes: 16 });
    const header = encodeFrame(MessageType.OutputCommand, Buffer.alloc(17)).subarray(0, 8);
    expect(() => dec.push(header)).toThrow(
      /OutputCommand message announces 17 bytes, over the limit of 16/,
    );
    expect(
      new FrameDecoder({ maxMessageBytes: 16 }).push(encodeFrame(1, Buffer.alloc(16))),
    ).toHaveLength(1);
  });

  it('names codes and classifies commands and notifications', () => {
    expect(messageTypeName(0x0411)).toBe('RunCommand');
    expect(messageTypeName(0x8011)).toBe('RunCompletionNotification');
    expect(messageTypeName(0xfc01)).toBe('Custom(0xfc01)');
    expect(messageTypeName(0x0099)).toBe('Unknown(0x0099)');
    expect(isCommand(MessageType.SetStateCommand)).toBe(true);
    expect(isCommand(MessageType.ProposeRunCompletion)).toBe(false);
    expect(isCommand(0xfc00)).toBe(true);
    expect(isNotification(MessageType.SignalNotification)).toBe(true);
    expect(isNotification(MessageType.RunCommand)).toBe(false);
  });
});
