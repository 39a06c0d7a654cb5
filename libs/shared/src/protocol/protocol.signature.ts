import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './protocol.types';

/** A request older or newer than this is rejected, so a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;
/** A unique id per request, covered by the v2 signature: a deployment refuses a nonce seen twice. */
export const NONCE_HEADER = 'x-tributary-nonce';
/** The v2 signature (timestamp, nonce, method, path, body); `x-tributary-signature` keeps v1. */
export const SIGNATURE_V2_HEADER = 'x-tributary-signature-v2';
const SCHEME = 'v1=';
const SCHEME_V2 = 'v2=';
/** What a deployment accepts as a nonce: no dot, so the signed string has one reading. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export interface SignedPart {
  method: string;
  /** Request target as sent on the wire: path plus query, e.g. `/invoke/Counter/add`. */
  path: string;
  body: Uint8Array | string;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Throws unless `key` is usable: an empty or blank key would make the signatures worthless. */
export function assertSigningKey(key: string): void {
  if (typeof key !== 'string' || key.trim() === '') {
    throw new TypeError('signing key must not be empty or whitespace');
  }
}

/** v1: HMAC-SHA256 over `timestamp.METHOD path.body`, hex. No nonce: replayable in the window. */
export function computeSignature(key: string, timestamp: string, part: SignedPart): string {
  return createHmac('sha256', key)
    .update(`${timestamp}.${part.method.toUpperCase()} ${part.path}.`)
    .update(part.body)
    .digest('hex');
}

/** v2: HMAC-SHA256 over `v2.timestamp.nonce.METHOD path.body`, hex. */
export function computeSignatureV2(
  key: string,
  timestamp: string,
  nonce: string,
  part: SignedPart,
): string {
  return createHmac('sha256', key)
    .update(`v2.${timestamp}.${nonce}.${part.method.toUpperCase()} ${part.path}.`)
    .update(part.body)
    .digest('hex');
}

/** A fresh nonce: 128 random bits, hex. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The headers to add to a request signed with `key`: the timestamp, a fresh nonce, the v2
 * signature over both, and the v1 signature that deployments predating nonces verify.
 */
export function signRequest(
  key: string,
  part: SignedPart,
  nowMs: number = Date.now(),
  nonce: string = newNonce(),
): Record<string, string> {
  assertSigningKey(key);
  const timestamp = String(nowMs);
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: SCHEME + computeSignature(key, timestamp, part),
    [NONCE_HEADER]: nonce,
    [SIGNATURE_V2_HEADER]: SCHEME_V2 + computeSignatureV2(key, timestamp, nonce, part),
  };
}

/**
 * Checks the signature of one request: v2 when a nonce and v2 signature are given, else v1.
 * Remembering nonces (refusing a replay) is the caller's part.
 */
export function verifyRequest(
  key: string,
  part: SignedPart,
  headers: { timestamp?: string; signature?: string; nonce?: string; signatureV2?: string },
  nowMs: number = Date.now(),
): SignatureCheck {
  assertSigningKey(key);
  const { timestamp, nonce, signatureV2 } = headers;
  const v2 = signatureV2 !== undefined || nonce !== undefined;
  const signature = v2 ? signatureV2 : headers.signature;
  if (!timestamp || !signature) {
    const sig = v2 ? SIGNATURE_V2_HEADER : SIGNATURE_HEADER;
    return { ok: false, reason: `missing ${TIMESTAMP_HEADER} or ${sig} header` };
  }
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'malformed timestamp' };
  if (Math.abs(nowMs - Number(timestamp)) > SIGNATURE_TOLERANCE_MS) {
    return { ok: false, reason: 'timestamp outside the 5 minute window (check the clocks)' };
  }
  if (v2 && !NONCE_PATTERN.test(nonce ?? '')) return { ok: false, reason: 'malformed nonce' };
  const scheme = v2 ? SCHEME_V2 : SCHEME;
  if (!signature.startsWith(scheme)) return { ok: false, reason: 'unknown signature scheme' };
  const hex = v2
    ? computeSignatureV2(key, timestamp, nonce ?? '', part)
    : computeSignature(key, timestamp, part);
  const expected = Buffer.from(hex, 'hex');
  const given = Buffer.from(signature.slice(scheme.length), 'hex');
  // timingSafeEqual needs equal lengths; the length itself reveals nothing about the key.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match' };
  }
  return { ok: true };
}
