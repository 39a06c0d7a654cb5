import { createHmac, timingSafeEqual } from 'node:crypto';

// Same scheme as libs/shared/src/protocol/protocol.signature.ts (docs/protocol.md, "Signing").
// The SDK verifies v2 only: v1 carries no nonce, so accepting it would let a replay through.
export const TOLERANCE_MS = 5 * 60 * 1000;
const SCHEME_V2 = 'v2=';
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

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

/** Throws unless `key` is usable: an empty or blank key would make the signatures worthless. */
export function assertSigningKey(key: string): void {
  if (typeof key !== 'string' || key.trim() === '') {
    throw new TypeError('signing key must not be empty or whitespace');
  }
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
      : 'missing x-tributary-signature-v2 header';
  }
  if (!timestamp) return 'missing x-tributary-timestamp header';
  if (!/^\d{1,16}$/.test(timestamp)) return 'malformed timestamp';
  if (Math.abs(nowMs - Number(timestamp)) > TOLERANCE_MS) {
    return 'timestamp outside the 5 minute window (check the clocks)';
  }
  if (!nonce) return 'missing x-tributary-nonce header';
  if (!NONCE.test(nonce)) return 'malformed nonce';
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
  const expected = createHmac('sha256', key)
    .update(`v2.${h.timestamp}.${h.nonce}.${req.method.toUpperCase()} ${req.path}.`)
    .update(req.body)
    .digest();
  const given = Buffer.from(h.signatureV2.slice(SCHEME_V2.length), 'hex');
  // Both are 32 bytes (headerProblem checked the hex), as timingSafeEqual needs.
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? undefined
    : 'signature does not match';
}
