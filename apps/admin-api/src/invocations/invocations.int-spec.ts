import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import {
  ControlAction,
  decodeBusMessage,
  InvocationControl,
  InvocationEntity,
  InvocationJournalEntity,
  InvocationPayloadEntity,
  InvocationStatus,
  isIdOfKind,
  KafkajsBatchConsumer,
  newId,
  newInvocationId,
  orderingKey,
} from '@tributary/shared';
import { buildMessage, MessageType, pb } from '@tributary/shared/restate';
import { create, DescMessage, MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';
import { testKafka, uniqueName, waitFor } from '../../../../test/support/kafka';
import { TERMINATION_FAILURE } from './invocation.service';

interface ControlOnBus {
  partition: number;
  key: string;
  message: InvocationControl;
}

const IDLE: InvocationStatus[] = [
  'pending',
  'scheduled',
  'ready',
  'backing-off',
  'paused',
  'suspended',
];
const HOUR = 3_600_000;

describe('invocations (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let invocations: Repository<InvocationEntity>;
  let payloads: Repository<InvocationPayloadEntity>;
  let journals: Repository<InvocationJournalEntity>;
  let bus: KafkajsBatchConsumer;
  const onBus: ControlOnBus[] = [];

  beforeAll(async () => {
    t = await startAdminApi('invocations');
    invocations = t.app.get(DataSource).getRepository(InvocationEntity);
    payloads = t.app.get(DataSource).getRepository(InvocationPayloadEntity);
    journals = t.app.get(DataSource).getRepository(InvocationJournalEntity);
    bus = new KafkajsBatchConsumer(testKafka(), {
      groupId: uniqueName('invocations-bus'),
      topics: [`${t.config.bus.topicPrefix}.invocations.v1`],
      fromBeginning: true,
    });
    await bus.start(async (batch) => {
      for (const record of batch.records) {
        const message = decodeBusMessage(record.value!);
        if (message.type !== 'control') throw new Error(`unexpected ${message.type} on the bus`);
        onBus.push({ partition: batch.partition, key: record.key!.toString(), message });
      }
    });
  });

  afterAll(async () => {
    await bus?.stop();
    await t?.close();
  });

  const http = () => request(t.http);
  const unique = (label: string) => `${label}${randomBytes(4).toString('hex')}`;

  /** A row as the invoker would have written it, in `status`, with what that status implies. */
  type Values = QueryDeepPartialEntity<InvocationEntity>;

  function row(status: InvocationStatus, overrides: Values = {}): Values {
    const now = Date.now();
    const base: Values = {
      id: newInvocationId(),
      targetService: 'Counter',
      targetHandler: 'add',
      targetKey: 'key-1',
      serviceTy: 'VIRTUAL_OBJECT',
      handlerTy: 'EXCLUSIVE',
      exclusive: true,
      status,
      invokedBy: 'subscription',
      subscriptionId: newId('sub'),
      kafkaTopic: 'orders',
      kafkaPartition: 3,
      kafkaOffset: '7',
      kafkaTimestamp: '1700000000000',
      kafkaKey: Buffer.from('key-1'),
      busPartition: 1,
      deadLetterTopic: 'orders-dlq',
      retryPolicy: { 'max-attempts': 3 },
    };
    const implied: Record<InvocationStatus, Values> = {
      pending: { inboxedAt: new Date(now) },
      scheduled: { scheduledAt: new Date(now), nextRetryAt: new Date(now + HOUR) },
      ready: {},
      running: {
        runningAt: new Date(now),
        leaseOwner: 'invoker-1',
        leaseExpiresAt: new Date(now + 60_000),
        epoch: 1,
      },
      'backing-off': {
        retryCount: 2,
        nextRetryAt: new Date(now + HOUR),
        lastFailure: 'handler answered 500',
        lastFailureCode: 500,
      },
      paused: { retryCount: 3, lastFailure: 'handler answered 500', lastFailureCode: 500 },
      // Waiting on a timer (a Restate SDK handler's ctx.sleep) that fires in an hour.
      suspended: { nextRetryAt: new Date(now + HOUR), epoch: 1 },
      completed: {
        completionResult: 'success',
        completedAt: new Date(now),
        output: Buffer.from('{"count":1}'),
        outputContentType: 'application/json',
      },
    };
    return { ...base, ...implied[status], ...overrides };
  }

  async function insert(
    status: InvocationStatus,
    overrides: Values = {},
  ): Promise<InvocationEntity> {
    const values = row(status, overrides);
    await invocations.insert(values);
    await payloads.insert({ id: values.id as string, ...PAYLOAD });
    return invocations.findOneByOrFail({ id: values.id as string });
  }

  /** What the invoker would have stored as each test invocation's payload. */
  const PAYLOAD = {
    input: Buffer.from('{"n":1}'),
    headers: { 'kafka.topic': 'orders', 'kafka.offset': '7', traceparent: '00-abc-def-01' },
    rawHeaders: { blob: 'AAH/' },
  };

  const stored = (id: string) => invocations.findOneBy({ id });

  async function controlOnBus(inv: InvocationEntity, action: ControlAction, id = inv.id) {
    const found = await waitFor(
      () => onBus.find((c) => c.message.id === id && c.message.action === action),
      `a '${action}' control message for ${id} on the bus`,
    );
    expect(found).toEqual({
      partition: inv.busPartition,
      key: orderingKey(inv.targetService, inv.targetKey, id, inv.serviceTy !== 'SERVICE'),
      message: { type: 'control', v: 1, id, action },
    });
    // Messages of one invocation share a partition, so any earlier one has arrived by now.
    expect(onBus.filter((c) => c.message.id === id).map((c) => c.message.action)).toEqual([action]);
  }

  const restateError = (message: string) => ({ message, restate_code: null });

  describe('GET /invocations', () => {
    const at = (second: number) => new Date(Date.UTC(2031, 2, 1, 0, 0, second));
    let service: string;
    let other: string;
    let sub: string;
    let rows: Record<'a' | 'b' | 'c' | 'd', InvocationEntity>;

    beforeAll(async () => {
      service = unique('List');
      other = unique('Other');
      sub = newId('sub');
      rows = {
        a: await insert('running', {
          targetService: service,
          targetKey: 'k1',
          subscriptionId: sub,
          createdAt: at(1),
        }),
        b: await insert('completed', {
          targetService: service,
          targetKey: 'k2',
          createdAt: at(2),
        }),
        c: await insert('paused', {
          targetService: service,
          targetHandler: 'get',
          handlerTy: 'SHARED',
          exclusive: false,
          targetKey: 'k1',
          subscriptionId: sub,
          createdAt: at(3),
        }),
        d: await insert('ready', {
          targetService: other,
          targetHandler: 'run',
          targetKey: '',
          serviceTy: 'SERVICE',
          handlerTy: null,
          exclusive: false,
          subscriptionId: sub,
          createdAt: at(4),
        }),
      };
    });

    async function ids(query: string): Promise<string[]> {
      const res = await http().get(`/invocations?${query}`).expect(200);
      expect(res.body.next_cursor).toBeNull();
      return (res.body.invocations as { id: string }[]).map((i) => i.id);
    }

    it('shows each invocation with Restate`s introspection columns', async () => {
      const res = await http().get(`/v4/invocations?subscription_id=${sub}`).expect(200);
      const { a, d } = rows;
      expect(res.body.invocations).toHaveLength(3);
      expect(res.body.invocations[2]).toEqual({
        id: a.id,
        target: `${service}/k1/add`,
        target_service_name: service,
        target_service_key: 'k1',
        target_handler_name: 'add',
        target_service_ty: 'virtual_object',
        status: 'running',
        completion_result: null,
        completion_failure: null,
        invoked_by: 'subscription',
        invoked_by_subscription_id: sub,
        invoked_by_id: null,
        restarted_from: null,
        workflow_run_of: null,
        created_at: '2031-03-01T00:00:01.000Z',
        modified_at: a.modifiedAt.toISOString(),
        inboxed_at: null,
        scheduled_at: null,
        running_at: a.runningAt!.toISOString(),
        completed_at: null,
        retry_count: 0,
        next_retry_at: null,
        last_failure: null,
        last_failure_error_code: null,
        kafka: { topic: 'orders', partition: 3, offset: '7', timestamp: '1700000000000' },
        dead_letter_topic: 'orders-dlq',
        dead_lettered_at: null,
      });
      expect(res.body.invocations[0]).toMatchObject({
        id: d.id,
        target: `${other}/run`,
        target_service_key: null,
        target_service_ty: 'service',
        status: 'ready',
      });
      expect(res.body.invocations[0]).not.toHaveProperty('headers');
    });

    it('filters by target, service, handler and key', async () => {
      const { a, b, c } = rows;
      expect(await ids(`service=${service}`)).toEqual([c.id, b.id, a.id]);
      expect(await ids(`target=${service}`)).toEqual([c.id, b.id, a.id]);
      expect(await ids(`target=${service}/add`)).toEqual([b.id, a.id]);
      expect(await ids(`target=${service}/k1/add`)).toEqual([a.id]);
      expect(await ids(`target=${service}/k1/add&service=${service}`)).toEqual([a.id]);
      expect(await ids(`service=${service}&key=k1`)).toEqual([c.id, a.id]);
      expect(await ids(`service=${service}&handler=get`)).toEqual([c.id]);
      expect(await ids(`target=${other}/run`)).toEqual([rows.d.id]);
      expect(await ids(`target=${other}//run`)).toEqual([rows.d.id]);
      expect(await ids(`service=${unique('Nobody')}`)).toEqual([]);
    });

    it('filters by status, one or several', async () => {
      const { a, b, c } = rows;
      expect(await ids(`service=${service}&status=running`)).toEqual([a.id]);
      expect(await ids(`service=${service}&status=completed`)).toEqual([b.id]);
      expect(await ids(`service=${service}&status=running,paused`)).toEqual([c.id, a.id]);
      expect(await ids(`service=${service}&status=running&status=completed`)).toEqual([b.id, a.id]);
      expect(await ids(`service=${service}&status=backing-off`)).toEqual([]);
    });

    it('filters by subscription and creation time (ISO 8601, any offset)', async () => {
      const { a, c, d } = rows;
      expect(await ids(`subscription_id=${sub}`)).toEqual([d.id, c.id, a.id]);
      expect(await ids(`subscription_id=${sub}&created_after=2031-03-01T00:00:01Z`)).toEqual([
        d.id,
        c.id,
      ]);
      expect(await ids(`subscription_id=${sub}&created_before=2031-03-01T00:00:04Z`)).toEqual([
        c.id,
        a.id,
      ]);
      const after = encodeURIComponent('2031-03-01T01:00:02+01:00');
      const before = encodeURIComponent('2031-02-28T19:00:04-05:00');
      expect(
        await ids(`subscription_id=${sub}&created_after=${after}&created_before=${before}`),
      ).toEqual([c.id]);
      expect(await ids(`subscription_id=${sub}&created_after=2031-03-02`)).toEqual([]);
    });

    it('walks every page with the cursor, newest first, without duplicates or gaps', async () => {
      const paged = unique('Paged');
      const base = Date.UTC(2032, 0, 1);
      // Several rows share one created_at, others differ by a microsecond only.
      for (let i = 0; i < 25; i++) {
        const micros = i % 3 === 0 ? 0 : i;
        const second = Math.floor(i / 5);
        const createdAt = new Date(base + second * 1000).toISOString().replace('Z', '');
        await invocations.insert(
          row(i % 2 === 0 ? 'completed' : 'ready', {
            targetService: paged,
            createdAt: () => `'${createdAt}${String(micros).padStart(3, '0')}Z'`,
          }),
        );
      }
      const all = await http().get(`/invocations?service=${paged}&limit=1000`).expect(200);
      expect(all.body.invocations).toHaveLength(25);
      const expected: string[] = all.body.invocations.map((i: { id: string }) => i.id);
      const times = all.body.invocations.map((i: { created_at: string }) => i.created_at);
      expect([...times].sort().reverse()).toEqual(times);

      const walked: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `service=${paged}&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await http().get(`/invocations?${query}`).expect(200);
        sizes.push(res.body.invocations.length);
        walked.push(...res.body.invocations.map((i: { id: string }) => i.id));
        cursor = res.body.next_cursor;
      } while (cursor !== null && sizes.length < 10);
      expect(sizes).toEqual([7, 7, 7, 4]);
      expect(walked).toEqual(expected);
      expect(new Set(walked).size).toBe(25);

      // The cursor composes with filters.
      const ready = expected.filter((_, i) => all.body.invocations[i].status === 'ready');
      const first = await http().get(`/invocations?service=${paged}&status=ready&limit=5`);
      const second = await http()
        .get(`/invocations?service=${paged}&status=ready&limit=5&cursor=${first.body.next_cursor}`)
        .expect(200);
      expect(
        [...first.body.invocations, ...second.body.invocations].map((i: { id: string }) => i.id),
      ).toEqual(ready.slice(0, 10));
    });

    it('pages 100 at a time by default', async () => {
      const many = unique('Many');
      await invocations.insert(
        Array.from({ length: 101 }, () => row('ready', { targetService: many })),
      );
      const res = await http().get(`/invocations?service=${many}`).expect(200);
      expect(res.body.invocations).toHaveLength(100);
      expect(res.body.next_cursor).toEqual(expect.any(String));
      const rest = await http()
        .get(`/invocations?service=${many}&cursor=${res.body.next_cursor}`)
        .expect(200);
      expect(rest.body).toEqual({ invocations: [expect.any(Object)], next_cursor: null });
    });

    it.each([
      ['status=finished', 'status'],
      ['created_after=yesterday', 'created_after'],
      ['created_before=2031-13-01', 'created_before'],
      ['limit=0', 'limit'],
      ['limit=-5', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=many', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['subscription_id=42', 'subscription_id'],
      ['target=/add', 'target'],
      ['service=A&service=B', 'service'],
    ])('answers 400 naming the parameter for %s', async (query, name) => {
      const res = await http().get(`/invocations?${query}`).expect(400);
      expect(res.body).toEqual(
        restateError(expect.stringContaining(`The query parameter '${name}' is invalid`)),
      );
    });

    it('answers 400 for an unknown parameter', async () => {
      const res = await http().get('/invocations?state=running').expect(400);
      expect(res.body.message).toContain("Unknown query parameter 'state'");
    });
  });

  describe('GET /invocations/{id}', () => {
    it('answers the invocation with its headers', async () => {
      const inv = await insert('backing-off');
      const res = await http().get(`/v2/invocations/${inv.id}`).expect(200);
      expect(res.body).toMatchObject({
        id: inv.id,
        status: 'backing-off',
        retry_count: 2,
        next_retry_at: inv.nextRetryAt!.toISOString(),
        last_failure: 'handler answered 500',
        last_failure_error_code: 500,
        headers: { 'kafka.topic': 'orders', 'kafka.offset': '7', traceparent: '00-abc-def-01' },
        raw_headers: { blob: 'AAH/' },
      });
      expect(res.body).not.toHaveProperty('input');
    });

    it('answers an empty journal when none is stored', async () => {
      const inv = await insert('running');
      const res = await http().get(`/invocations/${inv.id}`).expect(200);
      expect(res.body.journal).toEqual([]);
    });

    /** A journal row as the invoker's appendJournal writes it. */
    function journalRow<D extends DescMessage>(
      id: string,
      idx: number,
      type: number,
      schema: D,
      init: MessageInitShape<D>,
    ) {
      return { id, idx, type, flags: 0, body: Buffer.from(toBinary(schema, create(schema, init))) };
    }

    it('answers the stored journal, decoded, in order, with large values capped', async () => {
      const inv = await insert('backing-off');
      const other = await insert('backing-off');
      const run = buildMessage(MessageType.RunCommand, { name: 'charge', resultCompletionId: 1 });
      await journals.insert([
        // Stored out of order: the answer follows idx.
        journalRow(inv.id, 2, MessageType.CallCommand, pb.CallCommandMessageSchema, {
          serviceName: 'Ledger',
          handlerName: 'record',
          key: 'acct-1',
          parameter: Buffer.alloc(10_000, 'p'),
          invocationIdNotificationIdx: 2,
          resultCompletionId: 3,
        }),
        { id: inv.id, idx: 0, type: run.type, flags: run.flags, body: Buffer.from(run.body) },
        journalRow(
          inv.id,
          1,
          MessageType.RunCompletionNotification,
          pb.RunCompletionNotificationMessageSchema,
          { completionId: 1, result: { case: 'value', value: { content: Buffer.from('"ok"') } } },
        ),
        journalRow(
          inv.id,
          3,
          MessageType.CallInvocationIdCompletionNotification,
          pb.CallInvocationIdCompletionNotificationMessageSchema,
          { completionId: 2, invocationId: 'inv_1callee' },
        ),
        { id: inv.id, idx: 4, type: 0xfc02, flags: 0, body: Buffer.from([7, 7]) },
        // Another invocation's journal is not mixed in.
        { id: other.id, idx: 0, type: run.type, flags: run.flags, body: Buffer.from(run.body) },
      ]);

      const res = await http().get(`/v4/invocations/${inv.id}`).expect(200);
      expect(res.body).toMatchObject({ id: inv.id, status: 'backing-off' });
      const none = { sleep_wakeup_at: null, promise_name: null, decode_error: null };
      expect(res.body.journal).toEqual([
        {
          index: 1,
          entry_type: 'Command: Run',
          name: 'charge',
          completed: true,
          invoked_id: null,
          invoked_target: null,
          ...none,
          raw_length: run.body.length,
          entry: { result_completion_id: 1 },
        },
        {
          index: 2,
          entry_type: 'Notification: Run',
          name: null,
          completed: null,
          invoked_id: null,
          invoked_target: null,
          ...none,
          raw_length: expect.any(Number),
          entry: {
            completion_id: 1,
            result: {
              kind: 'value',
              value: { size: 4, encoding: 'utf8', content: '"ok"', truncated: false },
            },
          },
        },
        {
          index: 3,
          entry_type: 'Command: Call',
          name: null,
          completed: false,
          invoked_id: 'inv_1callee',
          invoked_target: 'Ledger/acct-1/record',
          ...none,
          raw_length: expect.any(Number),
          entry: {
            service_name: 'Ledger',
            handler_name: 'record',
            service_key: 'acct-1',
            idempotency_key: null,
            headers: [],
            parameter: {
              size: 10_000,
              encoding: 'utf8',
              content: 'p'.repeat(4096),
              truncated: true,
            },
            invocation_id_notification_idx: 2,
            result_completion_id: 3,
          },
        },
        {
          index: 4,
          entry_type: 'Notification: CallInvocationId',
          name: null,
          completed: null,
          invoked_id: 'inv_1callee',
          invoked_target: null,
          ...none,
          raw_length: expect.any(Number),
          entry: {
            completion_id: 2,
            result: { kind: 'invocation_id', invocation_id: 'inv_1callee' },
          },
        },
        {
          index: 5,
          entry_type: 'Custom(0xfc02)',
          name: null,
          completed: null,
          invoked_id: null,
          invoked_target: null,
          sleep_wakeup_at: null,
          promise_name: null,
          raw_length: 2,
          entry: null,
          decode_error: 'Custom(0xfc02) is not a journal entry type of service protocol V6',
        },
      ]);
      expect(res.body.journal[2].raw_length).toBeGreaterThan(10_000);
    });

    it('answers 400 for a malformed id and 404 for an unknown one', async () => {
      const bad = await http().get('/invocations/inv_nope').expect(400);
      expect(bad.body).toEqual(
        restateError(
          expect.stringContaining(
            "The request field 'invocation_id' is invalid. Reason: invalid invocation id 'inv_nope'",
          ),
        ),
      );
      const id = newInvocationId();
      const missing = await http().get(`/invocations/${id}`).expect(404);
      expect(missing.body).toEqual(restateError(`The requested invocation '${id}' does not exist`));
    });
  });

  describe('GET /invocations/{id}/output', () => {
    it.each(['pending', 'running', 'backing-off', 'paused'] as const)(
      'answers 470 while %s',
      async (status) => {
        const inv = await insert(status);
        const res = await http().get(`/invocations/${inv.id}/output`).expect(470);
        expect(res.body).toEqual(restateError(`The invocation '${inv.id}' is not completed yet`));
      },
    );

    it('answers the output bytes with their content type', async () => {
      const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
      const inv = await insert('completed', {
        output: bytes,
        outputContentType: 'application/octet-stream',
      });
      const res = await http()
        .get(`/invocations/${inv.id}/output`)
        .buffer(true)
        .parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);
    });

    it('defaults the content type to JSON, and answers an empty body for no output', async () => {
      const json = await insert('completed', { outputContentType: null });
      const res = await http().get(`/invocations/${json.id}/output`).expect(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.body).toEqual({ count: 1 });

      const empty = await insert('completed', { output: null, outputContentType: null });
      const none = await http().get(`/invocations/${empty.id}/output`).expect(200);
      expect(none.text).toBe('');
    });

    it.each([
      [404, 404],
      [409, 409],
      [503, 503],
      [null, 500],
      [200, 500],
      [0, 500],
    ])('a failure with code %p answers %p with the failure', async (code, status) => {
      const inv = await insert('completed', {
        completionResult: 'failure',
        completionFailure: 'TerminalError: no such order',
        lastFailure: 'TerminalError: no such order',
        lastFailureCode: code,
        output: null,
      });
      const res = await http().get(`/invocations/${inv.id}/output`).expect(status);
      expect(res.body).toEqual(restateError('TerminalError: no such order'));
    });

    it('answers 400 and 404 for bad and unknown ids', async () => {
      await http().get('/invocations/x/output').expect(400);
      await http().get(`/invocations/${newInvocationId()}/output`).expect(404);
    });
  });

  describe.each(['cancel', 'kill'] as const)('PATCH /invocations/{id}/%s', (action) => {
    it.each(IDLE)(`completes a %s invocation as failed, then wakes its invoker`, async (status) => {
      const inv = await insert(status, { busPartition: 0 });
      const res = await http().patch(`/invocations/${inv.id}/${action}`).expect(200);
      expect(res.text).toBe('');
      const after = await stored(inv.id);
      expect(after).toMatchObject({
        status: 'completed',
        completionResult: 'failure',
        completionFailure: TERMINATION_FAILURE[action],
        nextRetryAt: null,
        retryCount: inv.retryCount,
        lastFailure: inv.lastFailure,
      });
      expect(after!.completedAt).toBeInstanceOf(Date);
      expect(after!.modifiedAt.getTime()).toBeGreaterThan(inv.modifiedAt.getTime());
      await controlOnBus(inv, 'wake');
    });

    it(`asks the invoker of a running invocation to ${action} it (202)`, async () => {
      const inv = await insert('running');
      const res = await http().patch(`/v4/invocations/${inv.id}/${action}`).expect(202);
      expect(res.text).toBe('');
      expect(await stored(inv.id)).toMatchObject({ status: 'running', epoch: 1 });
      await controlOnBus(inv, action);
    });

    it('answers 409 for a completed invocation, 404 for an unknown one, 400 for a bad id', async () => {
      const inv = await insert('completed');
      const res = await http().patch(`/invocations/${inv.id}/${action}`).expect(409);
      expect(res.body).toEqual(restateError(`The invocation '${inv.id}' was already completed.`));
      expect(await stored(inv.id)).toMatchObject({ completionResult: 'success' });
      const id = newInvocationId();
      const missing = await http().patch(`/invocations/${id}/${action}`).expect(404);
      expect(missing.body).toEqual(restateError(`The requested invocation '${id}' does not exist`));
      await http().patch(`/invocations/bad/${action}`).expect(400);
    });
  });

  it('kills through the invoker when the invocation starts running meanwhile', async () => {
    const inv = await insert('ready');
    const dataSource = t.app.get(DataSource);
    const invoker = dataSource.createQueryRunner();
    await invoker.connect();
    try {
      // The invoker claims the row; until it commits, the admin API's conditional write waits.
      await invoker.startTransaction();
      await invoker.query(
        `UPDATE invocations SET status = 'running', epoch = epoch + 1 WHERE id = $1`,
        [inv.id],
      );
      const [{ pid }] = await invoker.query('SELECT pg_backend_pid() AS pid');
      const killing = http()
        .patch(`/invocations/${inv.id}/kill`)
        .then((res) => res);
      await waitFor(
        async () =>
          (
            await dataSource.query(
              'SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
              [pid],
            )
          ).length > 0,
        'the kill to wait for the claimed row',
      );
      await invoker.commitTransaction();
      expect((await killing).status).toBe(202);
    } finally {
      if (invoker.isTransactionActive) await invoker.rollbackTransaction();
      await invoker.release();
    }
    expect(await stored(inv.id)).toMatchObject({ status: 'running', epoch: 1 });
    await controlOnBus(inv, 'kill');
  });

  describe('PATCH /invocations/{id}/pause', () => {
    it('asks the invoker of a running invocation to pause it (202)', async () => {
      const inv = await insert('running');
      await http().patch(`/invocations/${inv.id}/pause`).expect(202);
      expect(await stored(inv.id)).toMatchObject({ status: 'running' });
      await controlOnBus(inv, 'pause');
    });

    it.each(['ready', 'backing-off'] as const)(
      'pauses a %s invocation in place (202), then wakes its invoker',
      async (status) => {
        const inv = await insert(status);
        await http().patch(`/invocations/${inv.id}/pause`).expect(202);
        expect(await stored(inv.id)).toMatchObject({
          status: 'paused',
          nextRetryAt: null,
          retryCount: inv.retryCount,
        });
        await controlOnBus(inv, 'wake');
      },
    );

    it('answers 200 for an invocation already paused, changing nothing', async () => {
      const inv = await insert('paused');
      await http().patch(`/invocations/${inv.id}/pause`).expect(200);
      expect((await stored(inv.id))!.modifiedAt).toEqual(inv.modifiedAt);
    });

    it.each([
      [
        'pending',
        'It is pending: queued behind an earlier invocation of the same key, it has not started yet; only started invocations (ready, running or backing-off) can be paused: pause it once it has started, or cancel or kill it now.',
      ],
      [
        'scheduled',
        'It is scheduled: it has not started yet; only started invocations (ready, running or backing-off) can be paused: pause it once it has started, or cancel or kill it now.',
      ],
      [
        'completed',
        'It is completed; only started invocations (ready, running or backing-off) can be paused.',
      ],
    ] as const)(
      'answers 409 for a %s invocation, with Restate`s sentence and why',
      async (status, why) => {
        const inv = await insert(status);
        const res = await http().patch(`/invocations/${inv.id}/pause`).expect(409);
        expect(res.body).toEqual(
          restateError(`The invocation '${inv.id}' is not running, cannot be paused. ${why}`),
        );
        expect(await stored(inv.id)).toMatchObject({ status });
      },
    );

    it('answers 404 for an unknown invocation', async () => {
      await http().patch(`/invocations/${newInvocationId()}/pause`).expect(404);
    });
  });

  describe('PATCH /invocations/{id}/resume', () => {
    it('puts a paused exclusive invocation back in its key`s queue, due now', async () => {
      const inv = await insert('paused', { busPartition: 0 });
      await http().patch(`/invocations/${inv.id}/resume`).expect(200);
      const after = await stored(inv.id);
      expect(after).toMatchObject({ status: 'pending', retryCount: 3 });
      expect(Math.abs(after!.nextRetryAt!.getTime() - Date.now())).toBeLessThan(60_000);
      await controlOnBus(inv, 'wake');
    });

    it('makes a paused non-exclusive invocation ready', async () => {
      const inv = await insert('paused', {
        serviceTy: 'SERVICE',
        handlerTy: null,
        exclusive: false,
        targetKey: '',
      });
      await http().patch(`/invocations/${inv.id}/resume`).expect(200);
      expect(await stored(inv.id)).toMatchObject({ status: 'ready' });
      await controlOnBus(inv, 'wake');
    });

    it('retries a backing-off invocation now', async () => {
      const inv = await insert('backing-off');
      await http().patch(`/invocations/${inv.id}/resume`).expect(200);
      const after = await stored(inv.id);
      expect(after).toMatchObject({ status: 'backing-off', retryCount: 2 });
      expect(after!.nextRetryAt!.getTime()).toBeLessThan(inv.nextRetryAt!.getTime() - HOUR / 2);
      await controlOnBus(inv, 'wake');
    });

    it('nudges the invoker of a ready invocation', async () => {
      const inv = await insert('ready');
      await http().patch(`/invocations/${inv.id}/resume`).expect(200);
      await controlOnBus(inv, 'wake');
    });

    it('answers 200 for a running invocation, changing nothing', async () => {
      const inv = await insert('running');
      await http().patch(`/invocations/${inv.id}/resume`).expect(200);
      expect((await stored(inv.id))!.modifiedAt).toEqual(inv.modifiedAt);
    });

    it.each(['pending', 'scheduled'] as const)(
      'answers 425 for a %s invocation',
      async (status) => {
        const inv = await insert(status);
        const res = await http().patch(`/invocations/${inv.id}/resume`).expect(425);
        expect(res.body).toEqual(
          restateError(
            `The invocation '${inv.id}' is either inboxed or scheduled, cannot be resumed.`,
          ),
        );
      },
    );

    it('answers 409 for a completed invocation and 404 for an unknown one', async () => {
      const inv = await insert('completed');
      const res = await http().patch(`/invocations/${inv.id}/resume`).expect(409);
      expect(res.body).toEqual(
        restateError(`The invocation '${inv.id}' is completed, cannot be resumed.`),
      );
      await http().patch(`/invocations/${newInvocationId()}/resume`).expect(404);
    });
  });

  describe('PATCH /invocations/{id}/purge', () => {
    it('deletes a completed invocation, its payload and any journal kept', async () => {
      const inv = await insert('completed', { completionResult: 'failure', output: null });
      const run = buildMessage(MessageType.RunCommand, { resultCompletionId: 1 });
      await journals.insert({ id: inv.id, idx: 0, ...run, body: Buffer.from(run.body) });
      const res = await http().patch(`/invocations/${inv.id}/purge`).expect(200);
      expect(res.text).toBe('');
      expect(await stored(inv.id)).toBeNull();
      expect(await payloads.findOneBy({ id: inv.id })).toBeNull();
      expect(await journals.findBy({ id: inv.id })).toEqual([]);
      await http().get(`/invocations/${inv.id}`).expect(404);
      await http().patch(`/invocations/${inv.id}/purge`).expect(404);
    });

    it.each([...IDLE, 'running'] as const)(
      'answers 409 for a %s invocation and keeps it',
      async (status) => {
        const inv = await insert(status);
        const res = await http().patch(`/invocations/${inv.id}/purge`).expect(409);
        expect(res.body).toEqual(restateError(`The invocation '${inv.id}' is not yet completed.`));
        expect(await stored(inv.id)).toMatchObject({ status });
      },
    );
  });

  describe('PATCH /invocations/{id}/restart-as-new', () => {
    it('starts a new invocation with the same target, input and record', async () => {
      const old = await insert('completed', {
        busPartition: 0,
        completionResult: 'failure',
        completionFailure: 'boom',
        retryCount: 4,
        lastFailure: 'boom',
      });
      const res = await http().patch(`/invocations/${old.id}/restart-as-new`).expect(200);
      expect(res.body).toEqual({ new_invocation_id: expect.any(String) });
      const newId: string = res.body.new_invocation_id;
      expect(isIdOfKind('inv', newId)).toBe(true);
      expect(newId).not.toBe(old.id);

      const created = await stored(newId);
      expect(created).toMatchObject({
        targetService: old.targetService,
        targetHandler: old.targetHandler,
        targetKey: old.targetKey,
        serviceTy: 'VIRTUAL_OBJECT',
        handlerTy: 'EXCLUSIVE',
        exclusive: true,
        status: 'pending',
        invokedBy: 'restart_as_new',
        restartedFrom: old.id,
        subscriptionId: old.subscriptionId,
        kafkaTopic: 'orders',
        kafkaPartition: 3,
        kafkaOffset: '7',
        kafkaTimestamp: '1700000000000',
        kafkaKey: old.kafkaKey,
        busPartition: 0,
        deadLetterTopic: 'orders-dlq',
        retryPolicy: old.retryPolicy,
        retryCount: 0,
        completionResult: null,
        completionFailure: null,
        lastFailure: null,
        completedAt: null,
        epoch: 0,
      });
      expect(await payloads.findOneBy({ id: newId })).toEqual({ id: newId, ...PAYLOAD });
      expect(created!.inboxedAt).toBeInstanceOf(Date);
      expect(BigInt(created!.seq)).toBeGreaterThan(BigInt(old.seq));
      expect(await stored(old.id)).toMatchObject({
        status: 'completed',
        completionFailure: 'boom',
      });
      await controlOnBus(old, 'wake', newId);

      const view = await http().get(`/invocations/${newId}`).expect(200);
      expect(view.body).toMatchObject({
        status: 'pending',
        invoked_by: 'restart_as_new',
        restarted_from: old.id,
        invoked_by_subscription_id: old.subscriptionId,
      });
    });

    it('makes a restarted service invocation ready, keyed on the bus by its own id', async () => {
      const old = await insert('completed', {
        serviceTy: 'SERVICE',
        handlerTy: null,
        exclusive: false,
        targetKey: '',
      });
      const res = await http().patch(`/invocations/${old.id}/restart-as-new`).expect(200);
      const newId: string = res.body.new_invocation_id;
      expect(await stored(newId)).toMatchObject({ status: 'ready', exclusive: false });
      await controlOnBus(old, 'wake', newId);
    });

    it('restarts a poison record`s invocation of an exclusive handler as exclusive', async () => {
      const old = await insert('completed', {
        exclusive: false,
        completionResult: 'failure',
        completionFailure: 'The payload is not valid JSON',
      });
      const res = await http().patch(`/invocations/${old.id}/restart-as-new`).expect(200);
      expect(await stored(res.body.new_invocation_id)).toMatchObject({
        status: 'pending',
        exclusive: true,
      });
    });

    it.each(['ready', 'running', 'backing-off', 'paused'] as const)(
      'answers 409 for a %s invocation (still running)',
      async (status) => {
        const inv = await insert(status);
        const res = await http().patch(`/invocations/${inv.id}/restart-as-new`).expect(409);
        expect(res.body).toEqual(restateError(`The invocation '${inv.id}' is still running.`));
      },
    );

    it.each(['pending', 'scheduled'] as const)(
      'answers 425 for a %s invocation (not started)',
      async (status) => {
        const inv = await insert(status);
        const res = await http().patch(`/invocations/${inv.id}/restart-as-new`).expect(425);
        expect(res.body).toEqual(
          restateError(
            `The invocation '${inv.id}' cannot be restarted because it's not running yet.`,
          ),
        );
      },
    );

    it('answers 422 for a workflow, as Restate, and 404 for an unknown invocation', async () => {
      const wf = await insert('completed', { serviceTy: 'WORKFLOW', handlerTy: 'WORKFLOW' });
      const res = await http().patch(`/invocations/${wf.id}/restart-as-new`).expect(422);
      expect(res.body.message).toContain('Restarting workflows is not supported');
      await http().patch(`/invocations/${newInvocationId()}/restart-as-new`).expect(404);
    });
  });

  describe('DELETE /invocations/{id} (deprecated)', () => {
    it('cancels by default (202)', async () => {
      const inv = await insert('ready');
      await http().delete(`/invocations/${inv.id}`).expect(202);
      expect(await stored(inv.id)).toMatchObject({
        status: 'completed',
        completionFailure: TERMINATION_FAILURE.cancel,
      });
      await controlOnBus(inv, 'wake');
    });

    it('kills with mode=kill (or Kill)', async () => {
      const running = await insert('running');
      await http().delete(`/v4/invocations/${running.id}?mode=kill`).expect(202);
      await controlOnBus(running, 'kill');
      const paused = await insert('paused');
      await http().delete(`/invocations/${paused.id}?mode=Kill`).expect(202);
      expect(await stored(paused.id)).toMatchObject({
        status: 'completed',
        completionFailure: TERMINATION_FAILURE.kill,
      });
    });

    it('purges with mode=purge', async () => {
      const done = await insert('completed');
      await http().delete(`/invocations/${done.id}?mode=purge`).expect(202);
      expect(await stored(done.id)).toBeNull();
      const running = await insert('running');
      const res = await http().delete(`/invocations/${running.id}?mode=purge`).expect(409);
      expect(res.body).toEqual(
        restateError(`The invocation '${running.id}' is not yet completed.`),
      );
    });

    it('answers like the PATCH calls on errors, and 400 for an unknown mode', async () => {
      const done = await insert('completed');
      await http().delete(`/invocations/${done.id}`).expect(409);
      await http().delete(`/invocations/${newInvocationId()}?mode=kill`).expect(404);
      await http().delete('/invocations/bad').expect(400);
      const res = await http().delete(`/invocations/${done.id}?mode=terminate`).expect(400);
      expect(res.body).toEqual(
        restateError(
          `The query parameter 'mode' is invalid. Reason: expected one of cancel, kill, purge, got "terminate"`,
        ),
      );
      await http().delete(`/invocations/${done.id}?mode=kill&mode=purge`).expect(400);
    });
  });
});
