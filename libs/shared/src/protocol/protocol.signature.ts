import { createHmac, timingSafeEqual } from 'node:crypto';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './protocol.types';

/** A request older or newer than this is rejected, so a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;
const SCHEME = 'v1=';

export interface SignedPart {
  method: string;
  /** Request target as sent on the wire: path plus query, e.g. `/invoke/Counter/add`. */
  path: string;
  body: Uint8Array | string;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function computeSignature(key: string, timestamp: string, part: SignedPart): string {
  return createHmac('sha256', key)
    .update(`${timestamp}.${part.method.toUpperCase()} ${part.path}.`)
    .update(part.body)
    .digest('hex');
}

/** The two headers to add to a request signed with `key`. */
export function signRequest(
  key: string,
  part: SignedPart,
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = String(nowMs);
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: SCHEME + computeSignature(key, timestamp, part),
  };
}

export function verifyRequest(
  key: string,
  part: SignedPart,
  headers: { timestamp?: string; signature?: string },
  nowMs: number = Date.now(),
): SignatureCheck {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) {
    return { ok: false, reason: `missing ${TIMESTAMP_HEADER} or ${SIGNATURE_HEADER} header` };
  }
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'malformed timestamp' };
  if (Math.abs(nowMs - Number(timestamp)) > SIGNATURE_TOLERANCE_MS) {
    return { ok: false, reason: 'timestamp outside the 5 minute window (check the clocks)' };
  }
  if (!signature.startsWith(SCHEME)) return { ok: false, reason: 'unknown signature scheme' };
  const expected = Buffer.from(computeSignature(key, timestamp, part), 'hex');
  const given = Buffer.from(signature.slice(SCHEME.length), 'hex');
  // timingSafeEqual needs equal lengths; the length itself reveals nothing about the key.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match' };
  }
  return { ok: true };
}
