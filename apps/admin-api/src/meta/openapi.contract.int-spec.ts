import * as t from '@tributary/sdk';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { create, DescMessage, MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  InvocationEntity,
  InvocationJournalEntity,
  InvocationPayloadEntity,
  newId,
  newInvocationId,
} from '@tributary/shared';
import { MessageType, pb } from '@tributary/shared/restate';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { uniqueName } from '../../../../test/support/kafka';
import { schemaProblems } from '../../../../test/support/openapi-check';
import { ADMIN_OPENAPI_DOCUMENT } from './openapi.document';

/**
 * The OpenAPI document is written by hand; this holds it to the code. The routes it lists must be
 * the routes Nest maps, method for method, and every JSON answer of the admin API, for each route
 * and status a client can see, must match the document's schema for it, strictly (no field the
 * document does not list, none it requires missing).
 */
describe('the OpenAPI document against the admin API (real Postgres and Kafka)', () => {
  let api: AdminTestApp;
  let endpoint: t.RunningEndpoint;
  const doc = ADMIN_OPENAPI_DOCUMENT as unknown as {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, object> };
  };
  const checked = new Set<string>();

  beforeAll(async () => {
    api = await startAdminApi('openapi');
    endpoint = await t.serve({
      services: [
        t.object({ name: 'DocCounter', handlers: { add: async () => 1 } }),
        t.service({ name: 'DocGreeter', handlers: { greet: async () => 'hi' } }),
      ],
      port: 0,
    });
  });

  afterAll(async () => {
    await api?.close();
    await endpoint?.close();
  });

  /** `GET /a/:id` as the document writes it: `/a/{id}`. */
  const docPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

  it('lists exactly the routes Nest maps', () => {
    const express = api.app.getHttpAdapter().getInstance() as {
      router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
      _router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    };
    const stack = (express.router ?? express._router)!.stack;
    const mapped = stack
      .filter((l) => l.route)
      .flatMap((l) =>
        Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${docPath(l.route!.path)}`),
      )
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(mapped);
  });

  /** Every way an answer departed from the document, over all the calls. */
  const drift: string[] = [];

  /** Checks an answer against the document's schema for its route, method and status. */
  function expectDocumented(method: string, route: string, res: request.Response): void {
    const where = `${method} ${route} ${res.status}`;
    const op = doc.paths[route]?.[method.toLowerCase()];
    if (!op) return void drift.push(`${where}: route not documented`);
    const response = op.responses[String(res.status)] as
      { content?: { 'application/json'?: { schema: object } } } | undefined;
    if (!response) return void drift.push(`${where}: status not documented`);
    const schema = response.content?.['application/json']?.schema;
    if (schema) drift.push(...schemaProblems(doc, schema, res.body).map((p) => `${where}: ${p}`));
    checked.add(where);
  }

  async function call(
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    route: string,
    body?: object,
  ) {
    let req = request(api.http)[method](path);
    if (body) req = req.send(body);
    const res = await req;
    expectDocumented(method.toUpperCase(), route, res);
    return res;
  }

  it('answers as documented, on every route', async () => {
    await call('get', '/health', '/health');
    await call('get', '/version', '/version');

    const registered = await call('post', '/deployments', '/deployments', { uri: endpoint.url });
    expect(registered.status).toBe(201);
    const dp = registered.body.id as string;
    await call('post', '/deployments', '/deployments', { uri: endpoint.url });
    await call('get', '/deployments', '/deployments');
    await call('get', '/deployment-health', '/deployment-health');
    await call('get', `/deployments/${dp}`, '/deployments/{id}');
    await call('get', '/deployments/dp_nonexistent', '/deployments/{id}');
    await call('get', '/services', '/services');
    await call('get', '/services/DocCounter', '/services/{service}');
    await call('get', '/services/DocCounter/handlers', '/services/{service}/handlers');
    await call(
      'get',
      '/services/DocCounter/handlers/add',
      '/services/{service}/handlers/{handler}',
    );
    await call('get', '/services/Nope', '/services/{service}');
    await call('post', '/services/DocCounter/state', '/services/{service}/state', {
      object_key: 'k',
      new_state: { count: [49] },
    });
    await call('get', '/services/DocCounter/state', '/services/{service}/state');
    await call('get', '/services/DocCounter/state/k', '/services/{service}/state/{key}');
    await call('get', '/services/DocGreeter/state/k', '/services/{service}/state/{key}');
    await call('post', '/services/DocCounter/state', '/services/{service}/state', {
      object_key: 'k',
      version: 'stale',
      new_state: {},
    });

    const cluster = uniqueName('doc-cluster');
    await call('post', '/kafka-clusters', '/kafka-clusters', {
      name: cluster,
      properties: { 'bootstrap.servers': '127.0.0.1:9092', 'sasl.password': 'secret' },
    });
    await call('get', '/kafka-clusters', '/kafka-clusters');
    await call('get', `/kafka-clusters/${cluster}`, '/kafka-clusters/{name}');
    await call('patch', `/kafka-clusters/${cluster}`, '/kafka-clusters/{name}', {
      properties: { 'bootstrap.servers': '127.0.0.1:9092', 'client.id': 'doc' },
    });

    const topic = uniqueName('doc-topic');
    const created = await call('post', '/subscriptions', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink: 'service://DocCounter/add',
      options: { 'auto.offset.reset': 'earliest', 'tributary.dead-letter-topic': `${topic}.dlq` },
    });
    expect(created.status).toBe(201);
    const sub = created.body.id as string;
    await call('get', '/subscriptions', '/subscriptions');
    await call('get', `/subscriptions/${sub}`, '/subscriptions/{id}');
    await call('patch', `/subscriptions/${sub}`, '/subscriptions/{id}', {
      options: { 'auto.offset.reset': 'earliest', 'fetch.min.bytes': '1' },
    });
    await call('patch', `/subscriptions/${sub}/pause`, '/subscriptions/{id}/pause');
    await call('patch', `/subscriptions/${sub}/resume`, '/subscriptions/{id}/resume');
    await call('get', `/subscriptions/${sub}/lag-history`, '/subscriptions/{id}/lag-history');
    await call(
      'get',
      `/subscriptions/${newId('sub')}/lag-history`,
      '/subscriptions/{id}/lag-history',
    );
    await call('get', `/subscriptions/${sub}/dead-letters`, '/subscriptions/{id}/dead-letters');
    await call(
      'get',
      `/subscriptions/${sub}/dead-letters?cursor=nope`,
      '/subscriptions/{id}/dead-letters',
    );
    await call('get', `/subscriptions/${sub}/records`, '/subscriptions/{id}/records');
    await call('get', `/subscriptions/${sub}/records?limit=0`, '/subscriptions/{id}/records');
    await call('post', `/subscriptions/${sub}/reset-offsets`, '/subscriptions/{id}/reset-offsets', {
      to: 'earliest',
      dry_run: true,
    });
    await call('post', `/subscriptions/${sub}/reset-offsets`, '/subscriptions/{id}/reset-offsets', {
      to: 'earliest',
    });
    await call('post', `/subscriptions/${sub}/reset-offsets`, '/subscriptions/{id}/reset-offsets', {
      to: 'nowhere',
    });
    await call('post', '/subscriptions', '/subscriptions', { source: 'nope', sink: 'nope' });

    // Invocations as the invoker writes them: one completed, one paused.
    const ds = api.app.get(DataSource);
    const row = (status: 'completed' | 'paused') => ({
      id: newInvocationId(),
      targetService: 'DocCounter',
      targetHandler: 'add',
      targetKey: 'k',
      serviceTy: 'VIRTUAL_OBJECT',
      handlerTy: 'EXCLUSIVE',
      exclusive: true,
      status,
      invokedBy: 'subscription' as const,
      subscriptionId: sub,
      kafkaTopic: topic,
      kafkaPartition: 0,
      kafkaOffset: '1',
      kafkaTimestamp: '1700000000000',
      kafkaKey: Buffer.from('k'),
      busPartition: 0,
      ...(status === 'completed'
        ? {
            completionResult: 'success' as const,
            completedAt: new Date(),
            output: Buffer.from('{"count":1}'),
            outputContentType: 'application/json',
          }
        : { retryCount: 3, lastFailure: 'boom', lastFailureCode: 500 }),
    });
    const done = row('completed');
    const paused = row('paused');
    for (const r of [done, paused]) {
      await ds.getRepository(InvocationEntity).insert(r);
      await ds.getRepository(InvocationPayloadEntity).insert({
        id: r.id,
        input: Buffer.from('{}'),
        headers: { 'kafka.offset': '1' },
        rawHeaders: null,
      });
    }
    // The paused one has a journal with every field of a journal entry in it.
    let idx = 0;
    const entry = <D extends DescMessage>(type: number, schema: D, init: MessageInitShape<D>) => ({
      id: paused.id,
      idx: idx++,
      type,
      flags: 0,
      body: Buffer.from(toBinary(schema, create(schema, init))),
    });
    const v = (text: string) => ({ content: Buffer.from(text) });
    const T = MessageType;
    await ds.getRepository(InvocationJournalEntity).insert([
      entry(T.InputCommand, pb.InputCommandMessageSchema, {
        headers: [{ key: 'h', value: 'v' }],
        value: v('{}'),
      }),
      entry(T.GetEagerStateCommand, pb.GetEagerStateCommandMessageSchema, {
        key: Buffer.from('k'),
        result: { case: 'value', value: v('1') },
        name: 'read',
      }),
      entry(T.GetEagerStateKeysCommand, pb.GetEagerStateKeysCommandMessageSchema, {
        value: { keys: [Buffer.from('k')] },
      }),
      entry(T.SetStateCommand, pb.SetStateCommandMessageSchema, {
        key: Buffer.from([0xff]),
        value: v('2'),
      }),
      entry(T.CompletePromiseCommand, pb.CompletePromiseCommandMessageSchema, {
        key: 'p',
        completion: {
          case: 'completionFailure',
          value: { code: 400, message: 'no', metadata: [{ key: 'm', value: 'n' }] },
        },
        resultCompletionId: 1,
      }),
      entry(T.SleepCommand, pb.SleepCommandMessageSchema, {
        wakeUpTime: 1_900_000_000_000n,
        resultCompletionId: 2,
      }),
      entry(T.CallCommand, pb.CallCommandMessageSchema, {
        serviceName: 'DocGreeter',
        handlerName: 'greet',
        parameter: Buffer.from('"x"'),
        idempotencyKey: 'i',
        invocationIdNotificationIdx: 3,
        resultCompletionId: 4,
      }),
      entry(
        T.CallInvocationIdCompletionNotification,
        pb.CallInvocationIdCompletionNotificationMessageSchema,
        { completionId: 3, invocationId: 'inv_1callee' },
      ),
      entry(T.OneWayCallCommand, pb.OneWayCallCommandMessageSchema, {
        serviceName: 'DocCounter',
        handlerName: 'add',
        key: 'k',
        invokeTime: 1_900_000_000_000n,
        invocationIdNotificationIdx: 5,
      }),
      entry(T.SendSignalCommand, pb.SendSignalCommandMessageSchema, {
        targetInvocationId: 'inv_1other',
        signalId: { case: 'name', value: 's' },
        result: { case: 'void', value: {} },
      }),
      entry(T.AttachInvocationCommand, pb.AttachInvocationCommandMessageSchema, {
        target: {
          case: 'idempotentRequestTarget',
          value: { serviceName: 'S', serviceKey: 'k', handlerName: 'h', idempotencyKey: 'i' },
        },
        resultCompletionId: 6,
      }),
      entry(T.GetInvocationOutputCommand, pb.GetInvocationOutputCommandMessageSchema, {
        target: { case: 'workflowTarget', value: { workflowName: 'W', workflowKey: 'k' } },
        resultCompletionId: 7,
      }),
      entry(T.AttachInvocationCommand, pb.AttachInvocationCommandMessageSchema, {
        target: { case: 'invocationId', value: 'inv_1x' },
        resultCompletionId: 8,
      }),
      entry(T.CompleteAwakeableCommand, pb.CompleteAwakeableCommandMessageSchema, {
        awakeableId: 'sign_1a',
        result: { case: 'value', value: v('ok') },
      }),
      entry(
        T.GetLazyStateKeysCompletionNotification,
        pb.GetLazyStateKeysCompletionNotificationMessageSchema,
        { completionId: 9, stateKeys: { keys: [Buffer.from('k')] } },
      ),
      entry(T.SignalNotification, pb.SignalNotificationMessageSchema, {
        signalId: { case: 'idx', value: 17 },
        result: { case: 'value', value: v('ok') },
      }),
      entry(T.OutputCommand, pb.OutputCommandMessageSchema, {}),
      { id: paused.id, idx: idx++, type: 0xfc00, flags: 0, body: Buffer.from([1]) },
    ]);
    const journaled = await call('get', `/invocations/${paused.id}`, '/invocations/{id}');
    expect(journaled.body.journal).toHaveLength(idx);
    await call('get', '/invocations', '/invocations');
    await call('get', `/invocations?status=paused&subscription_id=${sub}`, '/invocations');
    await call('get', `/invocations/${done.id}`, '/invocations/{id}');
    await call('get', `/invocations/${newInvocationId()}`, '/invocations/{id}');
    await call('get', `/invocations/${done.id}/output`, '/invocations/{id}/output');
    await call('get', `/invocations/${done.id}/input`, '/invocations/{id}/input');
    await call('get', `/invocations/${newInvocationId()}/input`, '/invocations/{id}/input');
    await call('get', `/invocation-counts?subscription_id=${sub}`, '/invocation-counts');
    await call('get', '/invocation-counts?limit=5', '/invocation-counts');
    await call(
      'patch',
      `/invocations/${done.id}/restart-as-new`,
      '/invocations/{id}/restart-as-new',
    );
    await call('patch', `/invocations/${paused.id}/kill`, '/invocations/{id}/kill');
    await call('patch', `/invocations/${done.id}/purge`, '/invocations/{id}/purge');

    await call('delete', `/subscriptions/${sub}`, '/subscriptions/{id}');
    await call('delete', `/subscriptions/${newId('sub')}`, '/subscriptions/{id}');
    await call('delete', `/kafka-clusters/${cluster}`, '/kafka-clusters/{name}');
    await call('delete', `/deployments/${dp}?force=true`, '/deployments/{id}');
    await call('get', '/openapi.json', '/openapi.json');
    expect(drift).toEqual([]);
    expect(checked.size).toBeGreaterThan(30);
  });
});
