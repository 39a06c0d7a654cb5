import { createHmac, timingSafeEqual } from 'node:crypto';

// Same scheme as libs/shared/src/protocol/protocol.signature.ts (docs/protocol.md, "Signing").
const TOLERANCE_MS = 5 * 60 * 1000;
const SCHEME = 'v1=';

export interface SignedRequest {
  method: string;
  path: string;
  body: Uint8Array;
  timestamp?: string;
  signature?: string;
}

/** Undefined when the request is signed with `key`, else why it is not. */
export function signatureProblem(
  key: string,
  req: SignedRequest,
  nowMs = Date.now(),
): string | undefined {
  const { timestamp, signature } = req;
  if (!timestamp || !signature) return 'request is not signed';
  if (!/^\d{1,16}$/.test(timestamp)) return 'malformed timestamp';
  if (Math.abs(nowMs - Number(timestamp)) > TOLERANCE_MS) {
    return 'timestamp outside the 5 minute window (check the clocks)';
  }
  if (!signature.startsWith(SCHEME)) return 'unknown signature scheme';
  const expected = createHmac('sha256', key)
    .update(`${timestamp}.${req.method.toUpperCase()} ${req.path}.`)
    .update(req.body)
    .digest();
  const given = Buffer.from(signature.slice(SCHEME.length), 'hex');
  // timingSafeEqual needs equal lengths; the length itself reveals nothing about the key.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return 'signature does not match';
  }
  return undefined;
}
