import { isHostAllowed, parseHostPatterns } from './deployment-hosts';

const allowed = (uri: string, entries: string[]) =>
  isHostAllowed(new URL(uri), parseHostPatterns(entries));

describe('admin.deployment-hosts matching', () => {
  it('allows any host when the list is empty', () => {
    expect(allowed('http://169.254.169.254/latest', [])).toBe(true);
  });

  it.each([
    // [uri, entries, allowed]
    ['http://handlers.internal:9080', ['handlers.internal'], true],
    ['https://handlers.internal', ['handlers.internal'], true],
    ['http://HANDLERS.Internal:9080', ['handlers.internal'], true],
    ['http://handlers.internal:9080', ['Handlers.INTERNAL'], true],
    ['http://handlers.internal.:9080', ['handlers.internal'], true],
    ['http://other.internal:9080', ['handlers.internal'], false],
    ['http://handlers.internal.evil.com', ['handlers.internal'], false],
    ['http://evilhandlers.internal', ['handlers.internal'], false],
  ])('a host without a port matches any port: %s in %j is %s', (uri, entries, expected) => {
    expect(allowed(uri, entries)).toBe(expected);
  });

  it.each([
    ['http://10.0.0.5:9080', ['10.0.0.5:9080'], true],
    ['http://10.0.0.5:9081', ['10.0.0.5:9080'], false],
    ['http://10.0.0.5', ['10.0.0.5:80'], true],
    ['https://10.0.0.5', ['10.0.0.5:443'], true],
    ['https://10.0.0.5', ['10.0.0.5:80'], false],
    ['http://10.0.0.5:80', ['10.0.0.5:80'], true],
  ])('a host with a port matches that port only: %s in %j is %s', (uri, entries, expected) => {
    expect(allowed(uri, entries)).toBe(expected);
  });

  it.each([
    ['http://a.svc.cluster.local', ['*.svc.cluster.local'], true],
    ['http://a.b.svc.cluster.local:9080', ['*.svc.cluster.local'], true],
    ['http://A.SVC.Cluster.Local', ['*.svc.cluster.local'], true],
    ['http://svc.cluster.local', ['*.svc.cluster.local'], false],
    ['http://evilsvc.cluster.local', ['*.svc.cluster.local'], false],
    ['http://a.svc.cluster.local.evil.com', ['*.svc.cluster.local'], false],
    ['http://a.svc.cluster.local:9080', ['*.svc.cluster.local:9080'], true],
    ['http://a.svc.cluster.local:9081', ['*.svc.cluster.local:9080'], false],
  ])('*.domain matches subdomains only: %s in %j is %s', (uri, entries, expected) => {
    expect(allowed(uri, entries)).toBe(expected);
  });

  it.each([
    ['http://[::1]:9080', ['[::1]'], true],
    ['http://[::1]:9080', ['[::1]:9080'], true],
    ['http://[::1]:9081', ['[::1]:9080'], false],
    ['http://[0:0:0:0:0:0:0:1]:9080', ['[::1]:9080'], true],
    ['http://[::1]:9080', ['[0:0::1]'], true],
    ['http://[::2]:9080', ['[::1]'], false],
  ])('IPv6 addresses compare as addresses: %s in %j is %s', (uri, entries, expected) => {
    expect(allowed(uri, entries)).toBe(expected);
  });

  it.each([
    // Other spellings of an address are the address the request would go to.
    ['http://2130706433:9080', ['127.0.0.1'], true],
    ['http://0x7f.0.0.1:9080', ['127.0.0.1'], true],
    ['http://2130706433:9080', ['10.0.0.5'], false],
    // Credentials before `@` are not the host.
    ['http://handlers.internal@169.254.169.254/', ['handlers.internal'], false],
    ['http://handlers.internal:9080@169.254.169.254/', ['handlers.internal:9080'], false],
  ])('matches the host the request goes to: %s in %j is %s', (uri, entries, expected) => {
    expect(allowed(uri, entries)).toBe(expected);
  });

  it('allows a host when any entry matches', () => {
    const entries = ['handlers.internal', '10.0.0.5:9080', '*.svc.cluster.local'];
    expect(allowed('http://x.svc.cluster.local:1', entries)).toBe(true);
    expect(allowed('http://10.0.0.5:9080', entries)).toBe(true);
    expect(allowed('http://10.0.0.6:9080', entries)).toBe(false);
  });
});
