import { ICustomPartitioner, Partitioners } from 'kafkajs';

/**
 * kafkajs' `DefaultPartitioner` (murmur2 of the key, as the Java client), choosing the same
 * partition for every key, in 32-bit integer arithmetic. kafkajs computes the hash with its
 * BigInt-backed `Long`, three 64-bit multiplications per four key bytes, turns a string key into
 * a new Buffer first and filters the partition list for every message: a few µs per record on the
 * consumer worker's path. Messages with an explicit partition or without a key go to kafkajs'
 * own partitioner, unchanged. `murmur2.partitioner.spec.ts` compares the two.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 of `data[0, length)`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[length4 + 2] << 16;
    if (rest >= 2) h ^= data[length4 + 1] << 8;
    h ^= data[length4];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Reused for string keys (UTF-8 is at most 3 bytes per UTF-16 unit): no Buffer per message. */
const scratch = Buffer.allocUnsafe(4096);

function keyHash(key: Buffer | string): number {
  if (Buffer.isBuffer(key)) return murmur2(key);
  if (key.length * 3 <= scratch.length) return murmur2(scratch, scratch.write(key, 0, 'utf8'));
  return murmur2(Buffer.from(key, 'utf8'));
}

export const Murmur2Partitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args) => {
    const { key, partition } = args.message;
    if (partition == null && (typeof key === 'string' || Buffer.isBuffer(key))) {
      return (keyHash(key) & 0x7fffffff) % args.partitionMetadata.length;
    }
    return fallback(args);
  };
};
