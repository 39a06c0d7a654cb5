// Request identity, as Restate's server signs its requests to a deployment: an Ed25519 key pair,
// the private half in a PKCS#8 PEM file (Restate's `request-identity-private-key-pem-file`), the
// public half given to the SDK as `publickeyv1_<base58 of the 32 raw key bytes>`
// (`identityKeys` / `withIdentityV1`). Every request carries
//
//   x-restate-signature-scheme: v1
//   x-restate-jwt-v1: <JWT>
//
// where the JWT is EdDSA-signed, its header `{"typ":"JWT","alg":"EdDSA","kid":"publickeyv1_…"}`
// and its claims `aud` (the request's path relative to the deployment: `/discover` or
// `/invoke/{service}/{handler}`, without any prefix of the deployment URL), `iat` (now, in
// seconds), `nbf` (now − 60 s) and `exp` (now + 60 s). The SDK checks the signature against its
// keys, `aud` against the path it was called on (from `/invoke` or `/discover` on), and `nbf` /
// `exp` with no leeway, then answers 401 to anything else. Both discovery and invocations are
// signed.
import {
  KeyObject,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

export const SIGNATURE_SCHEME_HEADER = 'x-restate-signature-scheme';
export const SIGNATURE_SCHEME_V1 = 'v1';
export const JWT_V1_HEADER = 'x-restate-jwt-v1';
export const PUBLIC_KEY_V1_PREFIX = 'publickeyv1_';
/** Restate's: `nbf` is this long before `iat`, `exp` this long after. */
export const JWT_VALIDITY_SECONDS = 60;

/** Why a request identity key could not be used; `file` is the PEM file, when there was one. */
export class RequestIdentityKeyError extends Error {
  override readonly name = 'RequestIdentityKeyError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

export interface RequestIdentityClaims {
  aud: string;
  exp: number;
  iat: number;
  nbf: number;
}

/** What a Restate-protocol client needs to sign its requests (RequestIdentity fits). */
export interface RequestSigner {
  /** The two headers for a request to `path` (relative to the deployment, e.g. `/discover`). */
  identityHeaders(path: string): Record<string, string>;
  /** The `publickeyv1_…` string the deployment must list among its identity keys. */
  publicKeyV1(): string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

export class RequestIdentity implements RequestSigner {
  private readonly kid: string;
  private readonly jwtHeader: string;

  private constructor(private readonly key: KeyObject) {
    const jwk = createPublicKey(key).export({ format: 'jwk' });
    this.kid = PUBLIC_KEY_V1_PREFIX + base58(Buffer.from(jwk.x as string, 'base64url'));
    this.jwtHeader = base64url(JSON.stringify({ typ: 'JWT', alg: 'EdDSA', kid: this.kid }));
  }

  /** Reads an Ed25519 private key in PKCS#8 PEM form (`-----BEGIN PRIVATE KEY-----`). */
  static fromPemFile(file: string): RequestIdentity {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RequestIdentityKeyError(
        code === 'ENOENT'
          ? `the file '${file}' does not exist`
          : `cannot read '${file}': ${(e as Error).message}`,
        file,
      );
    }
    return RequestIdentity.fromPem(text, `'${file}'`, file);
  }

  /** As `fromPemFile`, from the text; `source` names it in errors. Never quotes the key. */
  static fromPem(pem: string, source = 'the PEM text', file?: string): RequestIdentity {
    const fail = (why: string): never => {
      throw new RequestIdentityKeyError(
        `${source} ${why}; expected one Ed25519 private key in PKCS#8 PEM form (-----BEGIN PRIVATE KEY-----), as made by 'openssl genpkey -algorithm ed25519'`,
        file,
      );
    };
    const blocks = [...pem.matchAll(PEM_BLOCK)];
    if (blocks.length !== 1) fail(`holds ${blocks.length} PEM blocks`);
    const label = blocks[0][1];
    if (label !== 'PRIVATE KEY') fail(`holds a '${label}' PEM block`);
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: blocks[0][0], format: 'pem' });
    } catch {
      return fail('holds a PRIVATE KEY block that is not a valid PKCS#8 key');
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      fail(`holds a key of type ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
    }
    return new RequestIdentity(key);
  }

  /** The key's `publickeyv1_…` string (also the JWT's `kid`). */
  publicKeyV1(): string {
    return this.kid;
  }

  /** The JWT for a request to `path`, valid from `now − 60 s` to `now + 60 s`. */
  jwt(path: string, nowMs = Date.now()): string {
    const iat = Math.floor(nowMs / 1000);
    const claims: RequestIdentityClaims = {
      aud: path,
      exp: iat + JWT_VALIDITY_SECONDS,
      iat,
      nbf: iat - JWT_VALIDITY_SECONDS,
    };
    const signed = `${this.jwtHeader}.${base64url(JSON.stringify(claims))}`;
    const signature = cryptoSign(null, Buffer.from(signed, 'ascii'), this.key);
    return `${signed}.${signature.toString('base64url')}`;
  }

  /** `x-restate-signature-scheme: v1` and `x-restate-jwt-v1` for a request to `path`. */
  identityHeaders(path: string, nowMs = Date.now()): Record<string, string> {
    return {
      [SIGNATURE_SCHEME_HEADER]: SIGNATURE_SCHEME_V1,
      [JWT_V1_HEADER]: this.jwt(path, nowMs),
    };
  }
}

/** The request identity in a PEM file, or undefined when no file is configured. */
export function loadRequestIdentity(file: string | undefined): RequestIdentity | undefined {
  return file === undefined ? undefined : RequestIdentity.fromPemFile(file);
}

/**
 * Checks a JWT as the SDK does (signature by `publicKeyV1`, EdDSA, `aud`, `nbf` ≤ now < `exp`)
 * and returns its claims; throws naming the first failed check. For tests and diagnostics.
 */
export function verifyIdentityJwt(
  jwt: string,
  publicKeyV1: string,
  path: string,
  nowMs = Date.now(),
): RequestIdentityClaims {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error('not a JWT: expected three dot-separated parts');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as {
    alg?: string;
  };
  if (header.alg !== 'EdDSA') throw new Error(`alg is ${JSON.stringify(header.alg)}, not EdDSA`);
  const ok = cryptoVerify(
    null,
    Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
    publicKeyFromV1(publicKeyV1),
    Buffer.from(parts[2], 'base64url'),
  );
  if (!ok) throw new Error(`the signature is not by ${publicKeyV1}`);
  const claims = JSON.parse(
    Buffer.from(parts[1], 'base64url').toString('utf8'),
  ) as RequestIdentityClaims;
  const now = Math.floor(nowMs / 1000);
  if (claims.aud !== path) throw new Error(`aud is ${JSON.stringify(claims.aud)}, not '${path}'`);
  if (!(claims.nbf <= now)) throw new Error(`not valid before ${claims.nbf} (now ${now})`);
  if (!(now < claims.exp)) throw new Error(`expired at ${claims.exp} (now ${now})`);
  return claims;
}

/** The Ed25519 public key a `publickeyv1_…` string stands for. */
export function publicKeyFromV1(publicKeyV1: string): KeyObject {
  if (!publicKeyV1.startsWith(PUBLIC_KEY_V1_PREFIX)) {
    throw new RequestIdentityKeyError(`a public key must start with '${PUBLIC_KEY_V1_PREFIX}'`);
  }
  const raw = base58Decode(publicKeyV1.slice(PUBLIC_KEY_V1_PREFIX.length));
  if (raw.length !== 32) {
    throw new RequestIdentityKeyError(`a public key must be 32 bytes, this one is ${raw.length}`);
  }
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

// Base58 with Bitcoin's alphabet (what Rust's bs58 crate uses by default).
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  return '1'.repeat(zeros) + out;
}

export function base58Decode(text: string): Buffer {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  let n = 0n;
  for (const c of text) {
    const digit = ALPHABET.indexOf(c);
    if (digit < 0) throw new RequestIdentityKeyError(`'${c}' is not a base58 character`);
    n = n * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return Buffer.from([...new Array<number>(zeros).fill(0), ...bytes]);
}
