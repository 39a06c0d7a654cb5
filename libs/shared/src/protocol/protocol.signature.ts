/**
 * Request signing is defined once, in the SDK (`libs/sdk/src/signing.ts`), and re-exported here
 * for the invoker and the admin API.
 */
export {
  assertSigningKey,
  computeSignature,
  computeSignatureV2,
  newNonce,
  NONCE_PATTERN,
  SIGNATURE_TOLERANCE_MS,
  signRequest,
  verifyRequest,
} from '@tributary/sdk/signing';
export type { SignatureCheck, SignedPart } from '@tributary/sdk/signing';
