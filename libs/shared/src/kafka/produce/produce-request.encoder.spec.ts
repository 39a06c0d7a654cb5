import { seededRandom } from '../../../../../test/support/seeded-random';
import { crc32c } from './crc32c';
import {
  canEncodeFast,
  encodeProduceRequest,
  installFastProduceEncoding,
  ProduceMessage,
  ProduceRequestArgs,
} from './produce-request.encoder';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internals, the reference */
const kafkajsV3 = require('kafkajs/src/protocol/requests/produce/v3/request');
const produceRequests = require('kafkajs/src/protocol/requests/produce');
const Long = require('kafkajs/src/utils/long');
const KafkajsEncoder = require('kafkajs/src/protocol/encoder');
/* eslint-enable @typescript-eslint/no-require-imports */

// Our CRC32C, watched: only our encoder uses it (kafkajs' has its own).
jest.mock('./crc32c', () => {
  const actual = jest.requireActual<typeof import('./crc32c')>('./crc32c');
  return { ...actual, crc32c: jest.fn(actual.crc32c) };
});

const random = seededRandom(__filename);
const { pick, int } = random;

const text = (length: number): string =>
  Array.from({ length }, () =>
    pick(['a', 'Z', '0', '"', '\u0000', 'é', '€', '\u{1F600}', 'x', 'y']),
  ).join('');

function bytes(): Buffer | string | null | undefined {
  // lengths around the varint boundaries (63/64, 8191/8192) and empty ones
  const length = pick([0, 1, 5, 63, 64, 200, 1024, 8191, 8192, 20_000]);
  return pick<() => Buffer | string | null | undefined>([
    () => null,
    () => undefined,
    () => random.bytes(length),
    () => text(Math.ceil(length / 2)),
  ])();
}

function message(): ProduceMessage {
  const headers = pick<() => ProduceMessage['headers']>([
    () => undefined,
    () => ({}),
    () => ({ 'tributary.command': JSON.stringify({ id: text(20), n: int(1e9) }) }),
    () => ({
      a: random.bytes(int(300)),
      [text(3)]: text(int(100)),
      many: ['1', random.bytes(3)],
    }),
  ])();
  const value = bytes();
  return { key: bytes(), value: value === undefined ? null : value, headers };
}

function randomArgs(): ProduceRequestArgs {
  return {
    acks: pick([-1, 1]),
    timeout: pick([30_000, 1_000]),
    transactionalId: pick([undefined, null, 'tx-1', text(5)]),
    producerId: pick([undefined, Long.fromValue(4711), Long.fromValue('9007199254740993')]),
    producerEpoch: pick([undefined, 0, 3]),
    compression: pick([undefined, 0]),
    topicData: Array.from({ length: 1 + int(3) }, (_, t) => ({
      topic: `topic-${t}-${text(3)}`,
      partitions: Array.from({ length: 1 + int(4) }, (_, p) => ({
        partition: p * 3,
        firstSequence: pick([undefined, 0, 1234]),
        messages: Array.from({ length: 1 + int(pick([3, 40, 150])) }, message),
      })),
    })),
  };
}

async function kafkajsBytes(args: ProduceRequestArgs): Promise<Buffer> {
  const encoder = await kafkajsV3(args).encode();
  return encoder.buffer as Buffer;
}

describe(`produce request encoder (TEST_SEED=${random.seed})`, () => {
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(1_764_420_000_123));
  afterEach(() => jest.restoreAllMocks());

  it("writes exactly kafkajs' bytes for random topics, partitions, keys, values and headers", async () => {
    for (let i = 0; i < 30; i++) {
      const args = randomArgs();
      expect(canEncodeFast(args)).toBe(true);
      const ours = encodeProduceRequest(args);
      const theirs = await kafkajsBytes(args);
      expect(ours.length).toBe(theirs.length);
      expect(ours.equals(theirs)).toBe(true);
    }
  });

  it('leaves to kafkajs what it does not encode: compression, timestamps, other value types', () => {
    const base = randomArgs();
    const withMessage = (m: Record<string, unknown>): ProduceRequestArgs => ({
      ...base,
      topicData: [
        { topic: 't', partitions: [{ partition: 0, messages: [m as unknown as ProduceMessage] }] },
      ],
    });
    expect(canEncodeFast({ ...base, compression: 1 })).toBe(false);
    expect(canEncodeFast(withMessage({ value: 'v', timestamp: '1764420000000' }))).toBe(false);
    expect(canEncodeFast(withMessage({ value: 42 }))).toBe(false);
    expect(canEncodeFast(withMessage({ key: new Uint8Array(2), value: 'v' }))).toBe(false);
    expect(canEncodeFast(withMessage({ value: 'v', headers: { h: null } }))).toBe(false);
    expect(canEncodeFast(withMessage({ value: 'v', headers: { h: ['a', 1] } }))).toBe(false);
    expect(
      canEncodeFast(withMessage({ value: 'v', headers: { h: ['a', Buffer.from('b')] } })),
    ).toBe(true);
  });

  it("replaces only the encoding of kafkajs' Produce requests v3 to v7, once installed", async () => {
    // Which encoder ran, told by what it does: kafkajs' writes the request field by field through
    // its Encoder (acks is an INT16), and takes the batch CRC from its own CRC32C; ours writes a
    // buffer directly and takes the CRC from crc32c.ts.
    const kafkajsWrites = jest.spyOn(KafkajsEncoder.prototype, 'writeInt16');
    const ourCrcs = jest.mocked(crc32c);
    const encodedBy = async (request: { encode(): Promise<{ buffer: Buffer }> }) => {
      kafkajsWrites.mockClear();
      ourCrcs.mockClear();
      const { buffer } = await request.encode();
      const kafkajs = kafkajsWrites.mock.calls.length > 0;
      const ours = ourCrcs.mock.calls.length > 0;
      return { buffer, by: kafkajs === ours ? 'unclear' : kafkajs ? 'kafkajs' : 'ours' };
    };
    const args = randomArgs();
    const expected = await kafkajsBytes(args);

    // Before installing, kafkajs encodes every version itself.
    const before = await encodedBy(produceRequests.protocol({ version: 7 })(args).request);
    expect(before.by).toBe('kafkajs');
    expect(before.buffer.equals(expected)).toBe(true);

    installFastProduceEncoding();
    installFastProduceEncoding(); // idempotent
    for (const version of [3, 4, 5, 6, 7]) {
      const { request, response } = produceRequests.protocol({ version })(args);
      expect(request.apiVersion).toBe(version);
      expect(request.apiName).toBe('Produce');
      expect(response).toBeDefined();
      const encoded = await encodedBy(request);
      expect(encoded.by).toBe('ours');
      expect(encoded.buffer.equals(expected)).toBe(true);
    }
    // Compressed requests and other versions keep kafkajs' own encoder.
    const gzip = produceRequests.protocol({ version: 7 })({ ...args, compression: 1 });
    expect((await encodedBy(gzip.request)).by).toBe('kafkajs');
    const v2 = produceRequests.protocol({ version: 2 })(args);
    expect((await encodedBy(v2.request)).by).toBe('kafkajs');
  });
});
