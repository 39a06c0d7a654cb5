import {
  isSecretKey,
  MASKED_VALUE,
  maskSecrets,
  restoreMaskedSecrets,
} from './kafka-options.secrets';

describe('isSecretKey', () => {
  test.each([
    'sasl.password',
    'sasl.username',
    'sasl.jaas.config',
    'sasl.oauthbearer.config',
    'sasl.oauthbearer.client.secret',
    'ssl.key.password',
    'ssl.key.pem',
    'ssl.key.location',
    'ssl.keystore.location',
    'ssl.keystore.password',
    'ssl.truststore.location',
    'sasl.oauthbearer.assertion.private.key.passphrase',
    'sasl.kerberos.keytab',
  ])('%s is secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  test.each(['bootstrap.servers', 'group.id', 'sasl.mechanism', 'ssl.ca.location', 'client.id'])(
    '%s is not secret',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );
});

describe('maskSecrets', () => {
  it('replaces secret values with *** and leaves the rest, without touching the input', () => {
    const props = {
      'bootstrap.servers': 'b:9092',
      'sasl.username': 'alice',
      'sasl.password': 'hunter2',
      'ssl.key.pem': '-----BEGIN',
      'group.id': 'g',
    };
    expect(maskSecrets(props)).toEqual({
      'bootstrap.servers': 'b:9092',
      'sasl.username': '***',
      'sasl.password': '***',
      'ssl.key.pem': '***',
      'group.id': 'g',
    });
    expect(props['sasl.password']).toBe('hunter2');
  });
});

describe('restoreMaskedSecrets', () => {
  it('keeps the stored value of a secret written back masked', () => {
    const stored = { 'sasl.password': 'hunter2', 'client.id': 'a' };
    const given = maskSecrets({ ...stored, 'client.id': 'b' });
    expect(restoreMaskedSecrets(given, stored)).toEqual({
      values: { 'sasl.password': 'hunter2', 'client.id': 'b' },
      unknown: [],
    });
  });

  it('takes a new secret as given, and *** as a value where the key is not secret', () => {
    const stored = { 'sasl.password': 'hunter2' };
    expect(
      restoreMaskedSecrets({ 'sasl.password': 'new', 'client.id': MASKED_VALUE }, stored),
    ).toEqual({ values: { 'sasl.password': 'new', 'client.id': MASKED_VALUE }, unknown: [] });
  });

  it('reports a masked secret with nothing stored to keep', () => {
    const restored = restoreMaskedSecrets(
      { 'sasl.password': MASKED_VALUE, 'ssl.key.password': MASKED_VALUE },
      { 'sasl.password': 'hunter2' },
    );
    expect(restored).toEqual({
      values: { 'sasl.password': 'hunter2' },
      unknown: ['ssl.key.password'],
    });
  });
});
