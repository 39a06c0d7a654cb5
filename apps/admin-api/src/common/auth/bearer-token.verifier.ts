import { createHash, timingSafeEqual } from 'node:crypto';

export type BearerCheck = 'ok' | 'missing' | 'malformed' | 'invalid';

// RFC 6750 section 2.1. The token is RFC's token68 in practice, but any configured token
// (admin.tokens only has to be non-empty) must be usable: take everything but whitespace.
const BEARER = /^Bearer +(\S+)$/i;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks `Authorization` headers against the configured tokens. Tokens are compared as SHA-256
 * digests with `timingSafeEqual`, and every token is compared every time, so neither the length
 * nor the content of a token, nor which one matched, shows in the response time.
 */
export class BearerTokenVerifier {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  /** Whether any token is configured: without one, the admin API is open. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  check(authorization: string | undefined): BearerCheck {
    if (authorization === undefined || authorization.trim() === '') return 'missing';
    const match = BEARER.exec(authorization.trim());
    if (!match) return 'malformed';
    const given = digest(match[1]);
    let found = false;
    for (const expected of this.digests) found = timingSafeEqual(given, expected) || found;
    return found ? 'ok' : 'invalid';
  }
}
