import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NONCE_HEADER, SIGNATURE_HEADER, SIGNATURE_V2_HEADER, TIMESTAMP_HEADER } from './protocol';

/**
 * Request signing of the handler protocol (docs/protocol.md, "Signing"), defined once: the
 * invoker signs with `signRequest`, the SDK checks with `headerProblem` (before reading the
 * body) and `bodySignatureProblem` (after), and `verifyRequest` checks a whole request at once.
 */

/** A request older or newer than this is rejected, so a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;
const SCHEME = 'v1=';
const SCHEME_V2 = 'v2=';
/** What a deployment accepts as a nonce: no dot, so the signed string has one reading. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

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
  return hexMatches(signature.slice(scheme.length), hex)
    ? { ok: true }
    : { ok: false, reason: 'signature does not match' };
}

/** Constant-time comparison of two hex digests. */
function hexMatches(givenHex: string, expectedHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const given = Buffer.from(givenHex, 'hex');
  // timingSafeEqual needs equal lengths; the length itself reveals nothing about the key.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// --- The SDK's checks, split around reading the body -----------------------------------------
// The SDK verifies v2 only: v1 carries no nonce, so accepting it would let a replay through.

/** The signature headers of one request. */
export interface SignatureHeaders {
  timestamp?: string;
  nonce?: string;
  /** `x-tributary-signature` (v1): only its presence matters, to explain a refusal. */
  signatureV1?: string;
  signatureV2?: string;
}

/** A request whose headers passed `headerProblem`. */
export interface CheckedHeaders {
  timestamp: string;
  nonce: string;
  signatureV2: string;
}

/**
 * What can be checked before reading the body: presence and shape of the headers and the
 * timestamp's window. Undefined when they pass.
 */
export function headerProblem(h: SignatureHeaders, nowMs = Date.now()): string | undefined {
  const { timestamp, nonce, signatureV2 } = h;
  if (!timestamp && !signatureV2 && !h.signatureV1) return 'request is not signed';
  if (!signatureV2) {
    return h.signatureV1
      ? 'request has no v2 signature and nonce (the invoker predates replay protection: upgrade it)'
      : `missing ${SIGNATURE_V2_HEADER} header`;
  }
  if (!timestamp) return `missing ${TIMESTAMP_HEADER} header`;
  if (!/^\d{1,16}$/.test(timestamp)) return 'malformed timestamp';
  if (Math.abs(nowMs - Number(timestamp)) > SIGNATURE_TOLERANCE_MS) {
    return 'timestamp outside the 5 minute window (check the clocks)';
  }
  if (!nonce) return `missing ${NONCE_HEADER} header`;
  if (!NONCE_PATTERN.test(nonce)) return 'malformed nonce';
  if (!signatureV2.startsWith(SCHEME_V2)) return 'unknown signature scheme';
  if (!HEX_SHA256.test(signatureV2.slice(SCHEME_V2.length))) return 'malformed signature';
  return undefined;
}

/** Undefined when `body` and the request line are signed with `key` as the headers say. */
export function bodySignatureProblem(
  key: string,
  h: CheckedHeaders,
  req: { method: string; path: string; body: Uint8Array },
): string | undefined {
  const expected = computeSignatureV2(key, h.timestamp, h.nonce, req);
  return hexMatches(h.signatureV2.slice(SCHEME_V2.length), expected)
    ? undefined
    : 'signature does not match';
}
