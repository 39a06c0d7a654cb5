import { seededRandom } from '../../../../../test/support/seeded-random';
import { crc32c, crc32cIsNative, crc32cJs } from './crc32c';

// kafkajs' own implementation, a byte at a time: the reference.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

const random = seededRandom(__filename);

describe.each([
  ['crc32c', crc32c],
  ['crc32cJs (the fallback)', crc32cJs],
])(`%s (TEST_SEED=${random.seed})`, (_, crc32c) => {
  it('gives the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it("matches kafkajs' CRC32C on random inputs of every length up to 300 bytes and beyond", () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = random.bytes(length);
      expect(crc32c(bytes)).toBe(kafkajsCrc32c(bytes));
    }
    for (let i = 0; i < 20; i++) {
      const bytes = random.bytes(1 + random.int(200_000));
      expect(crc32c(bytes)).toBe(kafkajsCrc32c(bytes));
    }
  });

  it('computes the CRC of a range of a buffer', () => {
    const bytes = random.bytes(1000);
    for (const [start, end] of [
      [0, 1000],
      [1, 999],
      [17, 18],
      [500, 500],
      [3, 700],
    ]) {
      expect(crc32c(bytes, start, end)).toBe(kafkajsCrc32c(bytes.subarray(start, end)));
    }
  });
});

it('uses the native CRC32C where its binary is installed (it is on Linux x64)', () => {
  if (process.platform === 'linux' && process.arch === 'x64') expect(crc32cIsNative).toBe(true);
});
