import { createHmac } from 'node:crypto';
import { signRequest, verifyRequest } from './protocol.signature';

const part = { method: 'POST', path: '/invoke/Counter/add', body: Buffer.from('{"a":1}') };
const NOW = 1_700_000_000_000;

function check(headers: Record<string, string>, key = 'k', now = NOW, p = part) {
  return verifyRequest(
    key,
    p,
    { timestamp: headers['x-tributary-timestamp'], signature: headers['x-tributary-signature'] },
    now,
  );
}

describe('request signature', () => {
  it('follows the documented scheme', () => {
    const headers = signRequest('k', part, NOW);
    const expected = createHmac('sha256', 'k')
      .update(`${NOW}.POST /invoke/Counter/add.{"a":1}`)
      .digest('hex');
    expect(headers).toEqual({
      'x-tributary-timestamp': String(NOW),
      'x-tributary-signature': `v1=${expected}`,
    });
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
