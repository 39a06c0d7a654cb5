import { Partitioners, PartitionMetadata } from 'kafkajs';
import { seededRandom } from '../../../../../test/support/seeded-random';
import { Murmur2Partitioner } from './murmur2.partitioner';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

const random = seededRandom(__filename);

const randomString = (length: number): string =>
  Array.from({ length }, () => {
    const r = random.next();
    // ASCII, two- and three-byte UTF-8, and surrogate pairs (four bytes)
    if (r < 0.6) return String.fromCharCode(32 + random.int(95));
    if (r < 0.75) return String.fromCharCode(0x80 + random.int(0x700));
    if (r < 0.9) return String.fromCharCode(0x800 + random.int(0xd000));
    return '\u{1F600}';
  }).join('');

describe(`Murmur2Partitioner (TEST_SEED=${random.seed})`, () => {
  it("chooses the partition kafkajs' DefaultPartitioner chooses, for string and Buffer keys", () => {
    const ours = Murmur2Partitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 7, 16, 100]) {
      const partitionMetadata = metadata(partitions);
      for (let i = 0; i < 2_000; i++) {
        const length = random.int(70);
        const key = i % 2 === 0 ? randomString(length) : random.bytes(length);
        const args = { topic: 't', partitionMetadata, message: { key, value: null } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
    // Known keys, as the Java client hashes them.
    const partitionMetadata = metadata(16);
    for (const key of ['', 'a', 'BenchObject\u0000key-0042', 'x'.repeat(5_000)]) {
      const args = { topic: 't', partitionMetadata, message: { key, value: null } };
      expect(ours(args)).toBe(theirs(args));
    }
  });

  it('keeps an explicit partition, and spreads keyless messages over the partitions', () => {
    const partitioner = Murmur2Partitioner();
    const partitionMetadata = metadata(4);
    expect(
      partitioner({
        topic: 't',
        partitionMetadata,
        message: { key: 'k', value: null, partition: 3 },
      }),
    ).toBe(3);
    const chosen = new Set(
      Array.from({ length: 8 }, () =>
        partitioner({ topic: 't', partitionMetadata, message: { value: 'v' } }),
      ),
    );
    expect([...chosen].sort()).toEqual([0, 1, 2, 3]);
  });
});
