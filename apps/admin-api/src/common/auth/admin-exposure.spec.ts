import { describeAdminExposure, isLoopbackHost } from './admin-exposure';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost'])(
    '%s is loopback',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(['0.0.0.0', '::', '', '10.0.0.5', '192.168.1.1', 'admin.internal', '128.0.0.1'])(
    '%s is not',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('describeAdminExposure', () => {
  it('warns that the API is unauthenticated on loopback', () => {
    const e = describeAdminExposure('127.0.0.1:9070', []);
    expect(e.level).toBe('warn');
    expect(e.message).toMatch(/^admin API is unauthenticated .* listening on 127\.0\.0\.1:9070/);
  });

  it('warns loudly, naming the risk, on any other address', () => {
    for (const address of ['0.0.0.0:9070', '[::]:9070', '10.1.2.3:9070']) {
      const e = describeAdminExposure(address, []);
      expect(e.level).toBe('warn');
      expect(e.message).toContain('SECURITY RISK');
      expect(e.message).toContain(`listening on ${address}, beyond this machine`);
      expect(e.message).toContain('Set admin.tokens');
    }
  });

  it('only informs when tokens are set, without showing them', () => {
    const e = describeAdminExposure('0.0.0.0:9070', ['s3cret-token', 'other']);
    expect(e).toEqual({
      level: 'log',
      message: expect.stringContaining('requires a bearer token (2 tokens in admin.tokens)'),
    });
    expect(e.message).not.toContain('s3cret-token');
  });
});
