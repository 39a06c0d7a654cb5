import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const CHUNK = 62 ** 5;

/**
 * Base62 of a big-endian byte string, left-padded to `width` characters. Schoolbook division of
 * 16-bit limbs by 62^5, in plain numbers (all below 2^53): this runs once per record, and BigInt
 * was several times slower.
 */
export function base62(bytes: Uint8Array, width: number): string {
  const limbs: number[] = [];
  if (bytes.length % 2 === 1) limbs.push(bytes[0]);
  for (let i = bytes.length % 2; i < bytes.length; i += 2)
    limbs.push(bytes[i] * 256 + bytes[i + 1]);
  let out = '';
  let start = 0;
  while (start < limbs.length) {
    let remainder = 0;
    for (let i = start; i < limbs.length; i++) {
      const acc = remainder * 65536 + limbs[i];
      limbs[i] = Math.floor(acc / CHUNK);
      remainder = acc % CHUNK;
    }
    while (start < limbs.length && limbs[start] === 0) start++;
    for (let d = 0; d < 5; d++) {
      out = ALPHABET[remainder % 62] + out;
      remainder = Math.floor(remainder / 62);
    }
  }
  out = out.replace(/^0+/, '');
  return out.padStart(width, '0');
}

/**
 * Restate-shaped random ids: prefix + version digit `1` + base62 of 128 random bits (22 chars),
 * e.g. `sub_17dIxfx6WtqJgknUTtNq7v3`. Time-ordered prefix so ids sort roughly by creation.
 */
export function newId(prefix: 'sub' | 'dp'): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  return `${prefix}_1${base62(bytes, 22)}`;
}

/**
 * The invocation id of a Kafka record. Derived, not random: the same record read twice (after a
 * crash or a rebalance) yields the same id, and the id's primary key makes the second one a no-op.
 */
export function invocationIdForRecord(
  subscriptionId: string,
  topic: string,
  partition: number,
  offset: string,
): string {
  const digest = createHash('sha256')
    .update(`${subscriptionId}\u0000${topic}\u0000${partition}\u0000${offset}`)
    .digest();
  return `inv_1${base62(digest.subarray(0, 24), 33)}`;
}

/** A fresh invocation id, for invocations not tied to a record (restart-as-new). */
export function newInvocationId(): string {
  return `inv_1${base62(randomBytes(24), 33)}`;
}

const ID_SHAPES = {
  sub: /^sub_[0-9A-Za-z]{23}$/,
  dp: /^dp_[0-9A-Za-z]{23}$/,
  inv: /^inv_[0-9A-Za-z]{34}$/,
} as const;

export function isIdOfKind(kind: keyof typeof ID_SHAPES, value: string): boolean {
  return ID_SHAPES[kind].test(value);
}
