// Discovery against real @restatedev/restate-sdk endpoints, in process, over both transports.
import '../../../../test/support/restate-polyfill';
import {
  RunningEndpoint,
  startHttp1Endpoint,
  startHttp2Endpoint,
} from '../../../../test/support/restate-sdk-servers';
import { sdkEndpoint } from '../../../../test/support/restate-test-services';
import {
  DiscoveryError,
  ManifestValidationError,
  discoverEndpoint,
  endpointUrl,
  parseEndpointManifest,
} from './discovery';

describe('discoverEndpoint against @restatedev/restate-sdk', () => {
  const running: RunningEndpoint[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.close()));
  });
  const h2 = async (bidirectional?: boolean) => {
    const ep = await startHttp2Endpoint(sdkEndpoint().http2Handler({ bidirectional }));
    running.push(ep);
    return ep;
  };
  const h1 = async () => {
    const ep = await startHttp1Endpoint(sdkEndpoint().http1Handler());
    running.push(ep);
    return ep;
  };

  it('reads the manifest over HTTP/2 with prior knowledge (BIDI_STREAM endpoint)', async () => {
    const ep = await h2();
    const res = await discoverEndpoint(ep.url);
    expect(res.transport).toBe('http2');
    expect(res.manifestVersion).toBe(4);
    expect(res.server).toMatch(/restate-sdk-typescript\/1\.17\.2/);
    const m = res.manifest;
    expect(m.protocolMode).toBe('BIDI_STREAM');
    expect([m.minProtocolVersion, m.maxProtocolVersion]).toEqual([5, 7]);
    expect(m.services.map((s) => [s.name, s.ty]).sort()).toEqual([
      ['Counter', 'VIRTUAL_OBJECT'],
      ['Failing', 'SERVICE'],
      ['Greeter', 'SERVICE'],
      ['Hanging', 'SERVICE'],
      ['Runner', 'SERVICE'],
      ['Sleeper', 'SERVICE'],
      ['TwoRuns', 'SERVICE'],
    ]);
    const counter = m.services.find((s) => s.name === 'Counter')!;
    expect(counter.handlers.map((h) => [h.name, h.ty]).sort()).toEqual([
      ['add', 'EXCLUSIVE'],
      ['peek', 'SHARED'],
      ['reset', 'EXCLUSIVE'],
    ]);
    const greeter = m.services.find((s) => s.name === 'Greeter')!;
    expect(greeter).toMatchObject({
      retryPolicyInitialInterval: 250,
      retryPolicyMaxInterval: 10_000,
      retryPolicyMaxAttempts: 7,
      retryPolicyExponentiationFactor: 2,
      retryPolicyOnMaxAttempts: 'KILL',
    });
    const greet = greeter.handlers[0];
    expect(greet.name).toBe('greet');
    expect(greet.ty).toBeUndefined();
    expect(greet.input).toMatchObject({ contentType: 'application/json' });
    expect(greet.output).toMatchObject({ contentType: 'application/json' });
  });

  it('reports REQUEST_RESPONSE for an HTTP/2 handler built with bidirectional: false', async () => {
    const ep = await h2(false);
    const res = await discoverEndpoint(ep.url);
    expect([res.transport, res.manifest.protocolMode]).toEqual(['http2', 'REQUEST_RESPONSE']);
  });

  it('falls back to HTTP/1.1 for an http1Handler endpoint and says which transport worked', async () => {
    const ep = await h1();
    const res = await discoverEndpoint(ep.url);
    expect(res.transport).toBe('http1');
    expect(res.manifest.protocolMode).toBe('REQUEST_RESPONSE');
    expect(res.manifest.services).toHaveLength(7);
  });

  it('fails over HTTP/1.1 only against an HTTP/2-only endpoint, naming what was tried', async () => {
    const ep = await h2();
    const err = await discoverEndpoint(ep.url, { transports: ['http1'], timeoutMs: 3000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DiscoveryError);
    expect((err as DiscoveryError).attempts.map((a) => a.transport)).toEqual(['http1']);
    expect((err as Error).message).toContain(`${ep.url}/discover`);
    expect((err as Error).message).toMatch(/tried http1: /);
  });

  it.each([
    ['http2', h2],
    ['http1', h1],
  ] as const)(
    'surfaces the 415 an endpoint answers to an Accept without a manifest version (%s)',
    async (transport, start) => {
      const ep = await start();
      const err = await discoverEndpoint(ep.url, { accept: 'application/json' }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DiscoveryError);
      const d = err as DiscoveryError;
      expect(d.status).toBe(415);
      expect(d.attempts).toHaveLength(transport === 'http2' ? 1 : 2);
      expect(d.attempts.at(-1)!.transport).toBe(transport);
      expect(d.message).toMatch(/was refused with 415/);
      // What the endpoint said is not echoed: discovery must not read arbitrary URLs for a caller.
      expect(d.message).not.toMatch(/Unsupported service discovery protocol version/);
    },
  );

  it('gets a 500 from an SDK whose services set a retry policy when only manifest v3 is offered', async () => {
    const ep = await h2();
    const err = (await discoverEndpoint(ep.url, {
      accept: 'application/vnd.restate.endpointmanifest.v3+json',
    }).catch((e: unknown) => e)) as DiscoveryError;
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err.status).toBe(500);
    expect(err.message).not.toMatch(/retryPolicy/);
  });

  it('names both transports when nothing listens', async () => {
    const ep = await startHttp1Endpoint((_req, res) => res.end());
    const url = ep.url;
    await ep.close();
    running.length = 0;
    const err = (await discoverEndpoint(url).catch((e: unknown) => e)) as DiscoveryError;
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err.attempts.map((a) => a.transport)).toEqual(['http2', 'http1']);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('bounds the manifest size', async () => {
    const ep = await h2();
    const err = (await discoverEndpoint(ep.url, { maxBytes: 64 }).catch(
      (e: unknown) => e,
    )) as DiscoveryError;
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err.attempts).toHaveLength(1);
    expect(err.message).toMatch(/over the limit of 64 bytes/);
  });

  it('times out on an endpoint that never answers', async () => {
    const ep = await startHttp1Endpoint(() => undefined);
    running.push(ep);
    const err = (await discoverEndpoint(ep.url, { transports: ['http1'], timeoutMs: 200 }).catch(
      (e: unknown) => e,
    )) as DiscoveryError;
    expect(err).toBeInstanceOf(DiscoveryError);
    expect(err.message).toMatch(/no complete answer within 200 ms/);
  });

  it('rejects an answer with a content-type it did not ask for', async () => {
    const ep = await startHttp1Endpoint((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"services":[],"minProtocolVersion":5,"maxProtocolVersion":6}');
    });
    running.push(ep);
    const err = (await discoverEndpoint(ep.url, { transports: ['http1'] }).catch(
      (e: unknown) => e,
    )) as DiscoveryError;
    expect(err.message).toMatch(/content-type that is not one asked for/);
  });
});

describe('parseEndpointManifest', () => {
  const ok = { minProtocolVersion: 5, maxProtocolVersion: 6, services: [] };

  it('keeps a minimal manifest as is', () => {
    expect(parseEndpointManifest(ok)).toEqual(ok);
  });

  it.each([
    [{ ...ok, minProtocolVersion: 7 }, /1 <= min <= max/],
    [
      { ...ok, services: [{ name: 'S', ty: 'ACTOR', handlers: [] }] },
      /services\[S\]\.ty must be one of/,
    ],
    [
      { ...ok, services: [{ name: '9bad', ty: 'SERVICE', handlers: [] }] },
      /not a valid service name/,
    ],
    [
      { ...ok, services: [{ name: 'S', ty: 'SERVICE', handlers: [{ name: 'h' }, { name: 'h' }] }] },
      /handler 'h' twice/,
    ],
    [
      {
        ...ok,
        services: [
          { name: 'S', ty: 'SERVICE', handlers: [{ name: 'h', retryPolicyMaxAttempts: -1 }] },
        ],
      },
      /handlers\[0\]\.retryPolicyMaxAttempts must be a non-negative integer/,
    ],
    [{ ...ok, protocolMode: 'DUPLEX' }, /protocolMode must be one of/],
    [[], /must be a JSON object/],
  ])('refuses %j', (json, message) => {
    expect(() => parseEndpointManifest(json)).toThrow(ManifestValidationError);
    expect(() => parseEndpointManifest(json)).toThrow(message);
  });

  it('joins the discover path onto a base URL with a prefix', () => {
    expect(endpointUrl('http://h:9080/restate/', 'discover').href).toBe(
      'http://h:9080/restate/discover',
    );
    expect(endpointUrl('http://h:9080', '/invoke/S/h').href).toBe('http://h:9080/invoke/S/h');
  });
});
