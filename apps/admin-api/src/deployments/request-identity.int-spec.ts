// Registering Restate SDK endpoints started with identityKeys: the admin API signs discovery
// with invoker.request-identity-private-key-pem-file, as Restate's server does.
import '../../../../test/support/restate-polyfill';
import * as restate from '@restatedev/restate-sdk';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { RequestIdentity } from '@tributary/shared/restate';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { uniqueName } from '../../../../test/support/kafka';
import { RunningEndpoint, startHttp2Endpoint } from '../../../../test/support/restate-sdk-servers';

const quiet: restate.LoggerTransport = () => undefined;

/** An HTTP/2 SDK endpoint with one service, accepting only requests signed by `identityKey`. */
async function protectedEndpoint(service: string, identityKey: string): Promise<RunningEndpoint> {
  const svc = restate.service({
    name: service,
    handlers: { hello: async (_ctx: restate.Context, name: string) => `hello ${name}` },
  });
  return startHttp2Endpoint(
    restate.endpoint().setLogger(quiet).bind(svc).withIdentityV1(identityKey).http2Handler(),
  );
}

describe('registering a Restate SDK endpoint that requires request identity', () => {
  let dir: string;
  let keyFile: string;
  let identity: RequestIdentity;
  let signed: AdminTestApp;
  let unsigned: AdminTestApp;
  const endpoints: RunningEndpoint[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-identity-'));
    keyFile = join(dir, 'request-identity.pem');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    identity = RequestIdentity.fromPemFile(keyFile);
    signed = await startAdminApi('identity-signed', {
      TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE: keyFile,
    });
    unsigned = await startAdminApi('identity-unsigned');
  });

  afterAll(async () => {
    await Promise.all(endpoints.map((e) => e.close()));
    await signed?.close();
    await unsigned?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function endpoint(label: string, key: string) {
    const service = uniqueName(label).replace(/-/g, '_');
    const ep = await protectedEndpoint(service, key);
    endpoints.push(ep);
    return { service, url: ep.url };
  }

  it('succeeds when the key is configured', async () => {
    expect(signed.config.invoker.requestIdentityPrivateKeyPemFile).toBe(keyFile);
    const { service, url } = await endpoint('signed', identity.publicKeyV1());
    const res = await request(signed.http).post('/deployments').send({ uri: url });
    expect(res.status).toBe(201);
    expect(res.body.services.map((s: { name: string }) => s.name)).toEqual([service]);
    await request(signed.http).get(`/services/${service}`).expect(200);
  });

  it('fails without the key, saying the endpoint requires request identity and what to set', async () => {
    const { service, url } = await endpoint('unsigned', identity.publicKeyV1());
    const res = await request(unsigned.http).post('/deployments').send({ uri: url });
    expect(res.status).toBe(400);
    expect(res.body.restate_code).toBe('META0003');
    expect(res.body.message).toContain(`Cannot register the deployment at '${url}'`);
    expect(res.body.message).toContain(
      'was refused with 401: the endpoint requires request identity (it was started with identityKeys) and this request was not signed',
    );
    expect(res.body.message).toContain(
      "To sign requests as Restate's server does, set invoker.request-identity-private-key-pem-file (TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE) to the Ed25519 private key whose publickeyv1_... the endpoint lists in identityKeys",
    );
    await request(unsigned.http).get(`/services/${service}`).expect(404);
  });

  it('fails when the endpoint lists another key, naming the configured one', async () => {
    const other = generateKeyPairSync('ed25519').privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const { service, url } = await endpoint(
      'other-key',
      RequestIdentity.fromPem(other as string).publicKeyV1(),
    );
    const res = await request(signed.http).post('/deployments').send({ uri: url });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(
      `Requests are signed with ${identity.publicKeyV1()} (the key in invoker.request-identity-private-key-pem-file (TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE)): the endpoint must list it in identityKeys`,
    );
    await request(signed.http).get(`/services/${service}`).expect(404);
  });
});
