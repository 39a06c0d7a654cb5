import { BearerTokenVerifier } from './bearer-token.verifier';

describe('BearerTokenVerifier', () => {
  const verifier = new BearerTokenVerifier(['first-token', 'second.token~with/chars+=', 'a!b"c']);

  it('accepts any configured token, with the scheme in any case', () => {
    expect(verifier.check('Bearer first-token')).toBe('ok');
    expect(verifier.check('bearer second.token~with/chars+=')).toBe('ok');
    expect(verifier.check('BEARER  first-token ')).toBe('ok');
    expect(verifier.check('Bearer a!b"c')).toBe('ok');
  });

  it('tells a missing header from a malformed one and from a wrong token', () => {
    expect(verifier.check(undefined)).toBe('missing');
    expect(verifier.check('  ')).toBe('missing');
    expect(verifier.check('Basic Zmlyc3QtdG9rZW4=')).toBe('malformed');
    expect(verifier.check('Bearer')).toBe('malformed');
    expect(verifier.check('Bearer first-token extra')).toBe('malformed');
    expect(verifier.check('Bearer first-toke')).toBe('invalid');
    expect(verifier.check('Bearer first-token2')).toBe('invalid');
    expect(verifier.check('Bearer FIRST-TOKEN')).toBe('invalid');
  });

  it('is disabled without tokens, and then accepts nothing', () => {
    const none = new BearerTokenVerifier([]);
    expect(none.enabled).toBe(false);
    expect(verifier.enabled).toBe(true);
    expect(none.check('Bearer anything')).toBe('invalid');
  });
});
