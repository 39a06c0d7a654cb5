import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { newId, SubscriptionEntity } from '@tributary/shared';
import type { RunningEndpoint } from '@tributary/sdk';
import { startExampleEndpoint } from '../../../../examples/handlers/example.endpoint';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { uniqueName } from '../../../../test/support/kafka';

/** A `/discover` endpoint whose answer a test can change, recording the headers it gets. */
interface FakeDeployment {
  url: string;
  seen: IncomingHttpHeaders[];
  answer: { status: number; body: string };
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function fakeDeployment(manifest: unknown): Promise<FakeDeployment> {
  const fake = {
    seen: [] as IncomingHttpHeaders[],
    answer: { status: 200, body: JSON.stringify(manifest) },
  };
  const server = createServer((req, res) => {
    fake.seen.push(req.headers);
    if (req.url !== '/discover') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(fake.answer.status, { 'content-type': 'application/json' }).end(fake.answer.body);
  });
  const port = await listen(server);
  return Object.assign(fake, { url: `http://127.0.0.1:${port}`, close: () => close(server) });
}

function manifestOf(...services: unknown[]) {
  return {
    protocolMode: 'REQUEST_RESPONSE',
    minProtocolVersion: 1,
    maxProtocolVersion: 1,
    services,
  };
}

function service(name: string, handlers = ['run']) {
  return {
    name,
    ty: 'SERVICE',
    handlers: handlers.map((h) => ({ name: h, input: { contentType: 'application/json' } })),
  };
}

/** Service names are global in the registry: each test makes its own. */
function serviceName(label: string): string {
  return uniqueName(label).replace(/-/g, '_');
}

describe('deployments and services (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let example: RunningEndpoint;
  const fakes: FakeDeployment[] = [];

  async function fake(manifest: unknown): Promise<FakeDeployment> {
    const f = await fakeDeployment(manifest);
    fakes.push(f);
    return f;
  }

  async function register(body: object, path = '/deployments') {
    return request(t.http).post(path).send(body);
  }

  async function insertSubscription(serviceName: string, handlerName: string): Promise<string> {
    const id = newId('sub');
    await t.app
      .get(DataSource)
      .getRepository(SubscriptionEntity)
      .insert({
        id,
        source: 'kafka://local/some-topic',
        sink: `service://${serviceName}/${handlerName}`,
        cluster: 'local',
        topic: 'some-topic',
        serviceName,
        handlerName,
        options: { 'group.id': id, 'client.id': 'restate' },
      });
    return id;
  }

  beforeAll(async () => {
    t = await startAdminApi('deployments');
    example = await startExampleEndpoint({ port: 0 });
  });

  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await example?.close();
    await t?.close();
  });

  describe('registering the example endpoint', () => {
    let id: string;

    beforeAll(async () => {
      const res = await register({ uri: example.url, use_http_11: true, breaking: false });
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe(`deployments/${res.body.id}`);
      id = res.body.id;
    });

    it('answers Restate`s RegisterDeploymentResponse', async () => {
      const res = await request(t.http).get(`/deployments/${id}`).expect(200);
      expect(id).toMatch(/^dp_[0-9A-Za-z]{23}$/);
      const counter = res.body.services.find((s: { name: string }) => s.name === 'Counter');
      expect(counter).toEqual({
        name: 'Counter',
        ty: 'VirtualObject',
        handlers: [
          {
            name: 'add',
            ty: 'Exclusive',
            public: true,
            input_description: 'one of ["none", "application/json"]',
            output_description: 'application/json',
            retry_policy: {},
          },
          expect.objectContaining({ name: 'get', ty: 'Shared' }),
        ],
        deployment_id: id,
        revision: 1,
        public: true,
        idempotency_retention: '1d',
        workflow_completion_retention: null,
        inactivity_timeout: '1m',
        abort_timeout: '10m',
        enable_lazy_state: false,
        retry_policy: {
          initial_interval: '500ms',
          exponentiation_factor: 2,
          max_attempts: 70,
          max_interval: '1m',
          on_max_attempts: 'Pause',
        },
      });
      const byName = Object.fromEntries(
        res.body.services.map((s: { name: string; ty: string }) => [s.name, s]),
      );
      expect(byName.Greeter.ty).toBe('Service');
      expect(byName.Greeter.handlers[0]).toMatchObject({ name: 'greet', ty: null });
      expect(byName.Signup.ty).toBe('Workflow');
      expect(byName.Signup.workflow_completion_retention).toBe('1d');
      expect(byName.Signup.handlers.map((h: { ty: string }) => h.ty).sort()).toEqual([
        'Shared',
        'Workflow',
      ]);
      expect(byName.Raw.handlers[0].input_description).toBe(
        'one of ["none", "application/octet-stream"]',
      );
      expect(res.body).toMatchObject({
        id,
        uri: example.url,
        protocol_type: 'RequestResponse',
        http_version: 'HTTP/1.1',
        service_protocol: 'tributary',
        additional_headers: {},
        min_protocol_version: 1,
        max_protocol_version: 2,
      });
      expect(new Date(res.body.created_at).getTime()).not.toBeNaN();
    });

    it('lists it under /deployments, also under /v4 and /v2', async () => {
      for (const prefix of ['', '/v4', '/v2']) {
        const res = await request(t.http).get(`${prefix}/deployments`).expect(200);
        const listed = res.body.deployments.find((d: { id: string }) => d.id === id);
        expect(listed).toMatchObject({
          id,
          uri: example.url,
          protocol_type: 'RequestResponse',
          http_version: 'HTTP/1.1',
          service_protocol: 'tributary',
          additional_headers: {},
          min_protocol_version: 1,
          max_protocol_version: 2,
        });
        expect(listed.services).toEqual(
          expect.arrayContaining([
            { name: 'Counter', revision: 1 },
            { name: 'Greeter', revision: 1 },
            { name: 'Raw', revision: 1 },
            { name: 'Signup', revision: 1 },
          ]),
        );
      }
    });

    it('lists services and handlers, and answers 404 for unknown ones', async () => {
      const all = await request(t.http).get('/v4/services').expect(200);
      expect(all.body.services.map((s: { name: string }) => s.name)).toEqual(
        expect.arrayContaining(['Counter', 'Greeter', 'Raw', 'Signup']),
      );
      const counter = await request(t.http).get('/services/Counter').expect(200);
      expect(counter.body).toMatchObject({
        name: 'Counter',
        ty: 'VirtualObject',
        deployment_id: id,
      });
      const handlers = await request(t.http).get('/services/Counter/handlers').expect(200);
      expect(handlers.body.handlers.map((h: { name: string }) => h.name)).toEqual(['add', 'get']);
      const get = await request(t.http).get('/services/Counter/handlers/get').expect(200);
      expect(get.body).toMatchObject({ name: 'get', ty: 'Shared', public: true });

      const noService = await request(t.http).get('/services/NoSuchService').expect(404);
      expect(noService.body).toEqual({
        message: "The requested service 'NoSuchService' does not exist",
        restate_code: null,
      });
      await request(t.http).get('/services/NoSuchService/handlers').expect(404);
      const noHandler = await request(t.http).get('/services/Counter/handlers/nope').expect(404);
      expect(noHandler.body.message).toBe(
        "The requested handler 'nope' on service 'Counter' does not exist",
      );
    });

    it('answers 200 with the same deployment when the unchanged endpoint is registered again', async () => {
      const res = await register({ uri: `${example.url}/` }, '/v4/deployments');
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(id);
      expect(res.body.services.every((s: { revision: number }) => s.revision === 1)).toBe(true);
    });
  });

  it('sends additional_headers with discovery and shows them, masked, on the deployment', async () => {
    const name = serviceName('headers');
    const f = await fake(manifestOf(service(name)));
    const res = await register({ uri: f.url, additional_headers: { 'x-api-key': 'k1' } });
    expect(res.status).toBe(201);
    expect(f.seen[0]['x-api-key']).toBe('k1');
    const got = await request(t.http).get(`/deployments/${res.body.id}`).expect(200);
    // Sent as given, shown masked: additional headers often carry credentials.
    expect(got.body.additional_headers).toEqual({ 'x-api-key': '***' });
  });

  it('refuses a changed deployment at a known URI with 409 unless force, which replaces its services', async () => {
    const [kept, dropped, added] = ['kept', 'dropped', 'added'].map(serviceName);
    const f = await fake(manifestOf(service(kept), service(dropped)));
    const first = await register({ uri: f.url });
    expect(first.status).toBe(201);

    f.answer.body = JSON.stringify(manifestOf(service(kept, ['run', 'other']), service(added)));
    const conflict = await register({ uri: f.url });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({
      message: expect.stringContaining(
        `the deployment with uri '${f.url}' already exists (${first.body.id}) with other services or headers; use force=true to overwrite`,
      ),
      restate_code: null,
    });
    // A different header set is a change too.
    const headers = await register({ uri: f.url, additional_headers: { a: 'b' } });
    expect(headers.status).toBe(409);

    const forced = await register({ uri: f.url, force: true });
    expect(forced.status).toBe(200);
    expect(forced.body.id).toBe(first.body.id);
    const revisions = Object.fromEntries(
      forced.body.services.map((s: { name: string; revision: number }) => [s.name, s.revision]),
    );
    expect(revisions).toEqual({ [kept]: 2, [added]: 1 });
    await request(t.http).get(`/services/${dropped}`).expect(404);
    const handlers = await request(t.http).get(`/services/${kept}/handlers`).expect(200);
    expect(handlers.body.handlers.map((h: { name: string }) => h.name)).toEqual(['other', 'run']);
  });

  it('moves a service registered by another deployment to the new one, with revision + 1', async () => {
    const shared = serviceName('moved');
    const a = await fake(manifestOf(service(shared)));
    const b = await fake(manifestOf(service(shared)));
    const first = await register({ uri: a.url });
    const second = await register({ uri: b.url });
    expect(second.status).toBe(201);
    expect(second.body.services[0]).toMatchObject({
      name: shared,
      revision: 2,
      deployment_id: second.body.id,
    });
    const svc = await request(t.http).get(`/services/${shared}`).expect(200);
    expect(svc.body).toMatchObject({ deployment_id: second.body.id, revision: 2 });
    const old = await request(t.http).get(`/deployments/${first.body.id}`).expect(200);
    expect(old.body.services).toEqual([]);
  });

  it('refuses to change a service type unless breaking', async () => {
    const name = serviceName('retyped');
    await register({ uri: (await fake(manifestOf(service(name)))).url });
    const object = { name, ty: 'VIRTUAL_OBJECT', handlers: [{ name: 'run' }] };
    const f = await fake(manifestOf(object));
    const refused = await register({ uri: f.url });
    expect(refused.status).toBe(409);
    expect(refused.body.restate_code).toBe('META0006');
    expect(refused.body.message).toContain(`service revision for '${name}'`);
    const accepted = await register({ uri: f.url, breaking: true });
    expect(accepted.status).toBe(201);
    expect(accepted.body.services[0]).toMatchObject({ ty: 'VirtualObject', revision: 2 });
  });

  it('dry_run discovers and answers what would be registered, storing nothing', async () => {
    const name = serviceName('dry');
    const f = await fake(manifestOf(service(name)));
    const res = await register({ uri: f.url, dry_run: true });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^dp_/),
      services: [expect.objectContaining({ name, revision: 1, ty: 'Service' })],
      min_protocol_version: 1,
      max_protocol_version: 1,
    });
    expect(f.seen).toHaveLength(1);
    await request(t.http).get(`/services/${name}`).expect(404);
    await request(t.http).get(`/deployments/${res.body.id}`).expect(404);
    const list = await request(t.http).get('/deployments').expect(200);
    expect(list.body.deployments.map((d: { uri: string }) => d.uri)).not.toContain(f.url);
  });

  describe('rejects bad registrations with 400 and a message', () => {
    it.each([
      [{}, 'uri is required'],
      [{ uri: 'ftp://example.com/x' }, 'uri must be an absolute http:// or https:// URI'],
      [{ uri: 'not a uri' }, 'uri must be an absolute http:// or https:// URI'],
      [{ uri: 42 }, 'uri must be an absolute http:// or https:// URI'],
      [{ uri: 'http://127.0.0.1:1', force: 'yes' }, 'force must be a boolean value'],
      [
        { uri: 'http://127.0.0.1:1', additional_headers: { 'a b': 'c' } },
        'additional_headers must be',
      ],
      [{ uri: 'http://127.0.0.1:1', additional_headers: { a: 1 } }, 'additional_headers must be'],
      [{ uri: 'http://127.0.0.1:1', surprise: true }, 'property surprise should not exist'],
      [{ uri: 'http://127.0.0.1:1', metadata: { team: 'x' } }, "field 'metadata' is invalid"],
    ])('%j', async (body, message) => {
      const res = await register(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: expect.stringContaining(message), restate_code: null });
    });

    it('malformed JSON and a non-object body', async () => {
      const malformed = await request(t.http)
        .post('/deployments')
        .set('content-type', 'application/json')
        .send('{"uri": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({
        message: expect.stringContaining('JSON'),
        restate_code: null,
      });
      const array = await request(t.http)
        .post('/deployments')
        .send([{ uri: example.url }]);
      expect(array.status).toBe(400);
      expect(array.body.restate_code).toBeNull();
    });

    it('a body over the limit is 413', async () => {
      const res = await register({ uri: 'x'.repeat(t.config.admin.maxBodyBytes + 10) });
      expect(res.status).toBe(413);
      expect(res.body.message).toContain('exceeds the limit');
    });

    it('an unreachable deployment (closed port)', async () => {
      const server = createServer();
      const port = await listen(server);
      await close(server);
      const res = await register({ uri: `http://127.0.0.1:${port}` });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        message: expect.stringMatching(/discovery failed: cannot reach .*connection refused/),
        restate_code: 'META0003',
      });
    });

    it('a deployment answering non-JSON or an error status', async () => {
      const f = await fake({});
      f.answer = { status: 200, body: '<html>hello</html>' };
      const notJson = await register({ uri: f.url });
      expect(notJson.status).toBe(400);
      expect(notJson.body.message).toContain('not JSON');
      f.answer = { status: 500, body: 'boom' };
      const failing = await register({ uri: f.url });
      expect(failing.status).toBe(400);
      expect(failing.body.message).toContain('answered 500');
    });

    it('a manifest that is not one, or has an unknown service type', async () => {
      const notManifest = await register({ uri: (await fake({ hello: 'world' })).url });
      expect(notManifest.status).toBe(400);
      expect(notManifest.body.message).toContain("missing 'services' array");
      const name = serviceName('weird');
      const unknownType = await fake(manifestOf({ name, ty: 'ACTOR', handlers: [] }));
      const res = await register({ uri: unknownType.url });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        message: expect.stringContaining(`unknown service type 'ACTOR' for service '${name}'`),
        restate_code: 'META0013',
      });
      await request(t.http).get(`/services/${name}`).expect(404);
    });
  });

  describe('deleting a deployment', () => {
    it('answers 202 and removes its services and handlers', async () => {
      const name = serviceName('deleted');
      const res = await register({ uri: (await fake(manifestOf(service(name)))).url });
      await request(t.http).delete(`/deployments/${res.body.id}`).expect(202);
      await request(t.http).get(`/deployments/${res.body.id}`).expect(404);
      await request(t.http).get(`/services/${name}`).expect(404);
      await request(t.http).get(`/services/${name}/handlers/run`).expect(404);
    });

    it('is 409 naming the subscriptions on its handlers unless force=true', async () => {
      const name = serviceName('subscribed');
      const res = await register({ uri: (await fake(manifestOf(service(name)))).url });
      const sub = await insertSubscription(name, 'run');
      const refused = await request(t.http).delete(`/v4/deployments/${res.body.id}`).expect(409);
      expect(refused.body).toEqual({
        message: expect.stringContaining(`'${sub}' (service://${name}/run)`),
        restate_code: null,
      });
      expect(refused.body.message).toContain("use the 'force' flag");
      await request(t.http).get(`/services/${name}`).expect(200);

      await request(t.http).delete(`/deployments/${res.body.id}?force=maybe`).expect(400);
      await request(t.http).delete(`/deployments/${res.body.id}?force=true`).expect(202);
      await request(t.http).get(`/services/${name}`).expect(404);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      const unknown = newId('dp');
      const missing = await request(t.http).delete(`/deployments/${unknown}`).expect(404);
      expect(missing.body).toEqual({
        message: `The requested deployment '${unknown}' does not exist`,
        restate_code: null,
      });
      await request(t.http).get(`/deployments/${unknown}`).expect(404);
      const malformed = await request(t.http).get('/deployments/not-an-id').expect(400);
      expect(malformed.body.message).toContain("'not-an-id' is not a deployment id");
      await request(t.http).delete('/deployments/dp_').expect(400);
    });
  });
});
