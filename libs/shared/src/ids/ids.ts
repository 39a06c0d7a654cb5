import * as crypto from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 62^4, below 2^24: a 24-bit limb times it stays below 2^53, exact in a double. */
const CHUNK = 62 ** 4;

/** Scratch space for `base62` (ids are at most a few dozen bytes; larger inputs allocate). */
const scratchLimbs = new Float64Array(32);
const scratchDigits = new Uint8Array(256);

/**
 * Base62 of a big-endian byte string, left-padded to `width` characters. Schoolbook division of
 * 24-bit limbs by 62^4, in plain numbers (all below 2^53): this runs once per record, and BigInt
 * was several times slower.
 */
export function base62(bytes: Uint8Array, width: number): string {
  const n = bytes.length;
  const limbCount = Math.ceil(n / 3);
  const limbs = limbCount <= scratchLimbs.length ? scratchLimbs : new Float64Array(limbCount);
  // Each division yields 4 digits; 24 bits are a little more than 4 base-62 digits.
  const maxDigits = (limbCount + 1) * 4;
  const digits = maxDigits <= scratchDigits.length ? scratchDigits : new Uint8Array(maxDigits);
  let count = 0;
  let i = n % 3;
  if (i === 1) limbs[count++] = bytes[0];
  else if (i === 2) limbs[count++] = (bytes[0] << 8) | bytes[1];
  for (; i < n; i += 3) limbs[count++] = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];

  let digitCount = 0;
  let start = 0;
  while (start < count && limbs[start] === 0) start++;
  while (start < count) {
    let remainder = 0;
    for (let j = start; j < count; j++) {
      const acc = remainder * 0x1000000 + limbs[j];
      const q = Math.floor(acc / CHUNK);
      limbs[j] = q;
      remainder = acc - q * CHUNK;
    }
    while (start < count && limbs[start] === 0) start++;
    for (let d = 0; d < 4; d++) {
      const q = Math.floor(remainder / 62);
      digits[digitCount++] = remainder - q * 62;
      remainder = q;
    }
  }
  while (digitCount > 0 && digits[digitCount - 1] === 0) digitCount--;
  let out = width > digitCount ? '0'.repeat(width - digitCount) : '';
  for (let d = digitCount - 1; d >= 0; d--) out += ALPHABET[digits[d]];
  return out;
}

/**
 * Restate-shaped random ids: prefix + version digit `1` + base62 of 128 random bits (22 chars),
 * e.g. `sub_17dIxfx6WtqJgknUTtNq7v3`. Time-ordered prefix so ids sort roughly by creation.
 */
export function newId(prefix: 'sub' | 'dp'): string {
  const bytes = crypto.randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  return `${prefix}_1${base62(bytes, 22)}`;
}

/** One-shot `crypto.hash` (Node 20.12+) where there is one: half the cost of a Hash object. */
const sha256: (data: string) => Buffer =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

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
  const digest = sha256(`${subscriptionId}\u0000${topic}\u0000${partition}\u0000${offset}`);
  return `inv_1${base62(digest.subarray(0, 24), 33)}`;
}

/**
 * The invocation id of a call or one-way send made by an invocation: derived from the caller and
 * the call's place among its commands, so a call made again on replay is the same invocation.
 */
export function invocationIdForCall(callerId: string, commandIndex: number): string {
  const digest = sha256(`${callerId}\u0000call\u0000${commandIndex}`);
  return `inv_1${base62(digest.subarray(0, 24), 33)}`;
}

/** A fresh invocation id, for invocations not tied to a record (restart-as-new). */
export function newInvocationId(): string {
  return `inv_1${base62(crypto.randomBytes(24), 33)}`;
}

const ID_SHAPES = {
  sub: /^sub_[0-9A-Za-z]{23}$/,
  dp: /^dp_[0-9A-Za-z]{23}$/,
  inv: /^inv_[0-9A-Za-z]{34}$/,
} as const;

export function isIdOfKind(kind: keyof typeof ID_SHAPES, value: string): boolean {
  return ID_SHAPES[kind].test(value);
}
