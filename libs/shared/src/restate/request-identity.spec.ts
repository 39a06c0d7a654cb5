// Request identity: the key file, the publickeyv1_ string and the JWT, checked against what
// Restate's server (1.7.12) sent with the same key, and against real @restatedev/restate-sdk
// endpoints started with identityKeys.
import '../../../../test/support/restate-polyfill';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RunningEndpoint,
  startHttp1Endpoint,
  startHttp2Endpoint,
} from '../../../../test/support/restate-sdk-servers';
import { sdkEndpoint } from '../../../../test/support/restate-test-services';
import { DiscoveryError, discoverEndpoint } from './discovery';
import { RestateTransport } from './http-exchange';
import { InvocationAttemptError, invokeAttempt } from './invocation';
import {
  RequestIdentity,
  RequestIdentityKeyError,
  RequestSigner,
  base58,
  base58Decode,
  loadRequestIdentity,
  publicKeyFromV1,
  verifyIdentityJwt,
} from './request-identity';

// A key made for these tests with `openssl genpkey -algorithm ed25519`. Restate's server 1.7.12,
// given this file as request-identity-private-key-pem-file, logged the kid below and sent the two
// JWTs below (to GET /pre/discover and POST /pre/invoke/Greeter/greet of a deployment registered
// as http://…/pre). Ed25519 signatures are deterministic, so the same claims sign the same.
const TEST_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICZ34YlPZ2lR7O49SzgPyrTnmIAXnJEv2LnojsOBw1uF
-----END PRIVATE KEY-----
`;
const TEST_KEY_V1 = 'publickeyv1_6QKVZDWnkffUtTUMkakoVWTLfNcPiNsgbEFYca16jcQe';
const RESTATE_HEADER =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6InB1YmxpY2tleXYxXzZRS1ZaRFdua2ZmVXRUVU1rYWtvVldUTGZOY1BpTnNnYkVGWWNhMTZqY1FlIn0';
const RESTATE_DISCOVER_JWT = `${RESTATE_HEADER}.eyJhdWQiOiIvZGlzY292ZXIiLCJleHAiOjE3OTYzMTc0NTcsImlhdCI6MTc5NjMxNzM5NywibmJmIjoxNzk2MzE3MzM3fQ.IWxKDcnMKVOIFMD7iDYQmQdigVzPO4kk6Xp369DrqIbF1lepo4IXe1N9MfpQ9SBH-ODZTfvgb5kgs11h1_2uCw`;
const RESTATE_INVOKE_JWT = `${RESTATE_HEADER}.eyJhdWQiOiIvaW52b2tlL0dyZWV0ZXIvZ3JlZXQiLCJleHAiOjE3OTYzMTc0NjcsImlhdCI6MTc5NjMxNzQwNywibmJmIjoxNzk2MzE3MzQ3fQ.kKjRDhHU5PrWKVh7L8yDcBbSvkdDGPbO-QWlmzxcOrOgZyJzRQyYBJ9XRlhL-ZN-RDNTJVpUUa2Q9iFwIP4GDA`;

function newIdentity(): RequestIdentity {
  const { privateKey } = generateKeyPairSync('ed25519');
  return RequestIdentity.fromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

describe('RequestIdentity', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-identity-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("gives the key's publickeyv1_ string as Restate's server does", () => {
    const id = RequestIdentity.fromPemFile(file('key.pem', TEST_KEY_PEM));
    expect(id.publicKeyV1()).toBe(TEST_KEY_V1);
  });

  it('signs the same JWTs Restate sent for discovery and for an invocation', () => {
    const id = RequestIdentity.fromPem(TEST_KEY_PEM);
    expect(id.jwt('/discover', 1796317397_000)).toBe(RESTATE_DISCOVER_JWT);
    expect(id.jwt('/invoke/Greeter/greet', 1796317407_999)).toBe(RESTATE_INVOKE_JWT);
  });

  it('makes the two headers, EdDSA with kid, aud = path, nbf/exp a minute either side', () => {
    const id = newIdentity();
    const now = Date.now();
    const headers = id.identityHeaders('/invoke/Counter/add', now);
    expect(Object.keys(headers).sort()).toEqual(['x-restate-jwt-v1', 'x-restate-signature-scheme']);
    expect(headers['x-restate-signature-scheme']).toBe('v1');
    const [head] = headers['x-restate-jwt-v1'].split('.');
    expect(JSON.parse(Buffer.from(head, 'base64url').toString())).toEqual({
      typ: 'JWT',
      alg: 'EdDSA',
      kid: id.publicKeyV1(),
    });
    const iat = Math.floor(now / 1000);
    expect(
      verifyIdentityJwt(headers['x-restate-jwt-v1'], id.publicKeyV1(), '/invoke/Counter/add', now),
    ).toEqual({ aud: '/invoke/Counter/add', iat, nbf: iat - 60, exp: iat + 60 });
  });

  it('fails verification for another path, another key or another time', () => {
    const id = newIdentity();
    const now = Date.now();
    const jwt = id.jwt('/discover', now);
    expect(() => verifyIdentityJwt(jwt, id.publicKeyV1(), '/invoke/A/b', now)).toThrow(
      'aud is "/discover"',
    );
    expect(() => verifyIdentityJwt(jwt, newIdentity().publicKeyV1(), '/discover', now)).toThrow(
      'the signature is not by',
    );
    expect(() => verifyIdentityJwt(jwt, id.publicKeyV1(), '/discover', now + 60_000)).toThrow(
      'expired',
    );
    expect(() => verifyIdentityJwt(jwt, id.publicKeyV1(), '/discover', now - 61_000)).toThrow(
      'not valid before',
    );
  });

  it('encodes base58 as Bitcoin does, leading zero bytes as 1s, and decodes it back', () => {
    expect(base58(Buffer.from('Hello World!'))).toBe('2NEpo7TZRRrLZSi2U');
    expect(base58(Buffer.from([0, 0, 1]))).toBe('112');
    expect(base58Decode('112')).toEqual(Buffer.from([0, 0, 1]));
    const raw = publicKeyFromV1(TEST_KEY_V1).export({ format: 'jwk' }).x as string;
    expect(base58(Buffer.from(raw, 'base64url'))).toBe(TEST_KEY_V1.slice('publickeyv1_'.length));
  });

  it('loads nothing when no file is configured', () => {
    expect(loadRequestIdentity(undefined)).toBeUndefined();
    expect(loadRequestIdentity(file('k2.pem', TEST_KEY_PEM))?.publicKeyV1()).toBe(TEST_KEY_V1);
  });

  describe('refuses a file that is not one Ed25519 PKCS#8 private key, naming it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    // The last field: whether the file was read, so the message says what to put in it.
    const cases: [string, () => string, RegExp, boolean?][] = [
      [
        'a missing file',
        () => join(dir, 'nope.pem'),
        /the file '.*nope\.pem' does not exist/,
        false,
      ],
      ['a directory', () => dir, /cannot read '.*'/, false],
      ['an empty file', () => file('empty.pem', ''), /holds 0 PEM blocks/],
      [
        'two keys',
        () => file('two.pem', TEST_KEY_PEM + TEST_KEY_PEM),
        /'.*two\.pem' holds 2 PEM blocks/,
      ],
      [
        'a public key',
        () => file('pub.pem', ed.publicKey.export({ type: 'spki', format: 'pem' }) as string),
        /holds a 'PUBLIC KEY' PEM block/,
      ],
      [
        'an RSA key',
        () => file('rsa.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
        /holds a key of type rsa, not Ed25519/,
      ],
      [
        'an EC key',
        () => file('ec.pem', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
        /holds a key of type ec, not Ed25519/,
      ],
      [
        'a damaged key',
        () => file('bad.pem', TEST_KEY_PEM.replace('MC4CAQAw', 'MC4CAQAx')),
        /not a valid PKCS#8 key/,
      ],
    ];
    it.each(cases)('%s', (_label, path, message, read = true) => {
      const p = path();
      let err: unknown;
      try {
        RequestIdentity.fromPemFile(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RequestIdentityKeyError);
      expect((err as RequestIdentityKeyError).file).toBe(p);
      expect((err as Error).message).toMatch(message);
      if (read) expect((err as Error).message).toContain("'openssl genpkey -algorithm ed25519'");
      expect((err as Error).message).not.toContain('MC4CAQAw');
    });
  });
});

const setups: [string, RestateTransport, (key: string) => Promise<RunningEndpoint>][] = [
  [
    'HTTP/2',
    'http2',
    (key) => startHttp2Endpoint(sdkEndpoint().withIdentityV1(key).http2Handler()),
  ],
  [
    'HTTP/1.1',
    'http1',
    (key) => startHttp1Endpoint(sdkEndpoint().withIdentityV1(key).http1Handler()),
  ],
];

describe.each(setups)(
  '@restatedev/restate-sdk started with identityKeys, over %s',
  (_label, transport, start) => {
    const identity = newIdentity();
    const stranger = newIdentity();
    let ep: RunningEndpoint;
    beforeAll(async () => {
      ep = await start(identity.publicKeyV1());
    });
    afterAll(async () => {
      await ep?.close();
    });

    const discover = (signer?: RequestSigner, base = ep.url) =>
      discoverEndpoint(base, { transports: [transport], identity: signer });
    const invoke = (signer?: RequestSigner, base = ep.url) =>
      invokeAttempt({
        baseUrl: base,
        endpoint: { minProtocolVersion: 5, maxProtocolVersion: 7 },
        transport,
        service: 'Greeter',
        handler: 'greet',
        input: Buffer.from(JSON.stringify('Ada')),
        invocationId: Buffer.from(`identity-${transport}`),
        debugId: `inv_identity_${transport}`,
        identity: signer,
      });
    /** Signs with the right key but as of `offsetMs` from now, or for another path. */
    const skewed = (offsetMs: number, path?: string): RequestSigner => ({
      identityHeaders: (p) => identity.identityHeaders(path ?? p, Date.now() + offsetMs),
      publicKeyV1: () => identity.publicKeyV1(),
    });

    async function refusal(p: Promise<unknown>): Promise<DiscoveryError | InvocationAttemptError> {
      try {
        await p;
      } catch (e) {
        if (e instanceof DiscoveryError || e instanceof InvocationAttemptError) return e;
        throw e;
      }
      throw new Error('the endpoint accepted the request');
    }

    it('accepts a signed discovery and a signed invocation', async () => {
      const found = await discover(identity);
      expect(found.manifest.services.map((s) => s.name)).toContain('Greeter');
      const r = await invoke(identity);
      expect(r.outcome.kind).toBe('end');
      expect(JSON.parse(Buffer.from((r.output as { value: Uint8Array }).value).toString())).toEqual(
        { greeting: 'Hello, Ada!' },
      );
    });

    it('accepts them under a path prefix: aud is the path from /discover or /invoke on', async () => {
      await expect(discover(identity, `${ep.url}/some/prefix`)).resolves.toBeDefined();
      await expect(invoke(identity, `${ep.url}/some/prefix`)).resolves.toMatchObject({
        outcome: { kind: 'end' },
      });
    });

    it('answers 401 {"message":"Unauthorized"} to an unsigned discovery and invocation', async () => {
      const d = await refusal(discover());
      expect(d.status).toBe(401);
      expect((d as DiscoveryError).identityRefused).toBe(true);
      expect(d.message).toContain(
        'was refused with 401: the endpoint requires request identity (it was started with identityKeys) and this request was not signed',
      );
      const i = await refusal(invoke());
      expect([i.status, (i as InvocationAttemptError).kind]).toEqual([401, 'http-status']);
      expect(i.message).toContain('answered 401');
      expect(i.message).toContain('{"message":"Unauthorized"}');
      expect(i.message).toContain('this request was not signed');
    });

    it('answers 401 to requests signed with a key it does not list, naming that key', async () => {
      const d = await refusal(discover(stranger));
      expect(d.status).toBe(401);
      expect(d.message).toContain(
        `did not accept this one (${stranger.publicKeyV1()}); add it to the endpoint's identityKeys`,
      );
      const i = await refusal(invoke(stranger));
      expect(i.status).toBe(401);
      expect(i.message).toContain(stranger.publicKeyV1());
    });

    it('answers 401 to a JWT for another path, an expired one and one not valid yet', async () => {
      expect((await refusal(invoke(skewed(0, '/discover')))).status).toBe(401);
      expect((await refusal(discover(skewed(0, '/invoke/Greeter/greet')))).status).toBe(401);
      expect((await refusal(invoke(skewed(-5 * 60_000)))).status).toBe(401);
      expect((await refusal(invoke(skewed(5 * 60_000)))).status).toBe(401);
      // The control: the same signer, now and for the right path, is accepted.
      await expect(invoke(skewed(0))).resolves.toMatchObject({ outcome: { kind: 'end' } });
    });
  },
);
