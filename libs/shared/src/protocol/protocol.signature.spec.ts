import { createHmac } from 'node:crypto';
import { assertSigningKey, signRequest, verifyRequest } from './protocol.signature';

const part = { method: 'POST', path: '/invoke/Counter/add', body: Buffer.from('{"a":1}') };
const NOW = 1_700_000_000_000;

const NONCE = '0123456789abcdef0123456789abcdef';

/** Verifies v1 only, as a deployment that predates nonces does. */
function check(headers: Record<string, string>, key = 'k', now = NOW, p = part) {
  return verifyRequest(
    key,
    p,
    { timestamp: headers['x-tributary-timestamp'], signature: headers['x-tributary-signature'] },
    now,
  );
}

function checkV2(headers: Record<string, string>, key = 'k', now = NOW, p = part) {
  return verifyRequest(
    key,
    p,
    {
      timestamp: headers['x-tributary-timestamp'],
      nonce: headers['x-tributary-nonce'],
      signatureV2: headers['x-tributary-signature-v2'],
    },
    now,
  );
}

describe('request signature', () => {
  it('follows the documented scheme: v1 unchanged for older deployments, v2 over the nonce', () => {
    const headers = signRequest('k', part, NOW, NONCE);
    const v1 = createHmac('sha256', 'k').update(`${NOW}.POST /invoke/Counter/add.{"a":1}`);
    const v2 = createHmac('sha256', 'k').update(
      `v2.${NOW}.${NONCE}.POST /invoke/Counter/add.{"a":1}`,
    );
    expect(headers).toEqual({
      'x-tributary-timestamp': String(NOW),
      'x-tributary-signature': `v1=${v1.digest('hex')}`,
      'x-tributary-nonce': NONCE,
      'x-tributary-signature-v2': `v2=${v2.digest('hex')}`,
    });
  });

  it('gives every request its own nonce', () => {
    const nonces = new Set(
      Array.from({ length: 100 }, () => signRequest('k', part, NOW)['x-tributary-nonce']),
    );
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(nonce).toMatch(/^[0-9a-f]{32}$/);
  });

  it('verifies v2, which covers the nonce', () => {
    const headers = signRequest('k', part, NOW, NONCE);
    expect(checkV2(headers)).toEqual({ ok: true });
    const otherNonce = { ...headers, 'x-tributary-nonce': 'fedcba9876543210fedcba9876543210' };
    expect(checkV2(otherNonce)).toEqual({ ok: false, reason: 'signature does not match' });
    expect(checkV2({ ...headers, 'x-tributary-nonce': 'a.b' })).toEqual({
      ok: false,
      reason: 'malformed nonce',
    });
    expect(checkV2(headers, 'other').ok).toBe(false);
    expect(checkV2(headers, 'k', NOW, { ...part, body: Buffer.from('{"a":2}') }).ok).toBe(false);
  });

  it('refuses an empty or whitespace-only key, signing and verifying', () => {
    for (const key of ['', ' ', '\t\n ']) {
      expect(() => signRequest(key, part, NOW)).toThrow(
        'signing key must not be empty or whitespace',
      );
      expect(() => checkV2(signRequest('k', part, NOW), key)).toThrow(
        'signing key must not be empty or whitespace',
      );
      expect(() => assertSigningKey(key)).toThrow('signing key must not be empty or whitespace');
    }
    expect(() => assertSigningKey(' k ')).not.toThrow();
  });

  it('verifies its own signature within the window', () => {
    expect(check(signRequest('k', part, NOW), 'k', NOW + 299_000)).toEqual({ ok: true });
  });

  it('rejects another key, body, method or path', () => {
    const headers = signRequest('k', part, NOW);
    expect(check(headers, 'other').ok).toBe(false);
    expect(check(headers, 'k', NOW, { ...part, body: Buffer.from('{"a":2}') }).ok).toBe(false);
    expect(check(headers, 'k', NOW, { ...part, method: 'GET' }).ok).toBe(false);
    expect(check(headers, 'k', NOW, { ...part, path: '/invoke/Counter/get' }).ok).toBe(false);
  });

  it('rejects stale, missing and malformed headers', () => {
    expect(check(signRequest('k', part, NOW), 'k', NOW + 301_000)).toEqual({
      ok: false,
      reason: 'timestamp outside the 5 minute window (check the clocks)',
    });
    expect(check({}).ok).toBe(false);
    expect(check({ 'x-tributary-timestamp': 'soon', 'x-tributary-signature': 'v1=00' }).ok).toBe(
      false,
    );
    expect(
      check({ 'x-tributary-timestamp': String(NOW), 'x-tributary-signature': 'v1=zz' }).ok,
    ).toBe(false);
  });
});

describe('one definition of the protocol', () => {
  it('the invoker signs, and reads the wire types, with the SDK own definitions', async () => {
    const sdkSigning = await import('@tributary/sdk/signing');
    const sdkProtocol = await import('@tributary/sdk/protocol');
    const shared = await import('./index');
    expect(shared.signRequest).toBe(sdkSigning.signRequest);
    expect(shared.verifyRequest).toBe(sdkSigning.verifyRequest);
    expect(shared.SIGNATURE_HEADER).toBe(sdkProtocol.SIGNATURE_HEADER);
    expect(shared.SERVICE_TYPES).toBe(sdkProtocol.SERVICE_TYPES);
  });
});
