import './support/restate-polyfill';
import * as restate from '@restatedev/restate-sdk';
import type { OutgoingRecord } from '../libs/shared/src/kafka/kafka.types';
import { KafkajsAdmin, KafkajsProducer } from '../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from './support/kafka';
import { Pipeline } from './support/pipeline';
import { RunningEndpoint, startHttp2Endpoint } from './support/restate-sdk-servers';
import { RestateServer } from './support/restate-server';

/**
 * Parity: one service written with Restate's SDK, one endpoint, registered with the real Restate
 * server and with Tributary, each subscribed to its own topic holding the same keyed records.
 * Each record must end the same way on both (output, or terminal error with its code), and every
 * key must end with the same state. What cannot be equal (invocation ids, and `ctx.rand` and
 * `ctx.date`, which are seeded by the id and read the clock) must be the same across every
 * execution of one invocation on each system.
 */
jest.setTimeout(120_000);

type Op = 'add' | 'refuse' | 'flaky' | 'clear';
interface LedgerInput {
  op: Op;
  n: number;
}

/** `topic/partition/offset`: a record, on either system (each reads its own topic). */
type RecordId = string;

interface Outcome {
  invocationId: string;
  output?: unknown;
  terminal?: { message: string; code: number };
}

/** What the handler saw, per record. */
const outcomes = new Map<RecordId, Outcome>();
/** `ctx.rand` and `ctx.date` as each execution of the handler saw them (replays included). */
const draws = new Map<RecordId, string[]>();
/** `ctx.run` closures that actually ran. */
const runs = new Map<RecordId, number>();
/** Records whose first execution failed on purpose (`flaky`). */
const failedOnce = new Set<RecordId>();

const ledger = restate.object({
  name: 'Ledger',
  handlers: {
    apply: async (ctx: restate.ObjectContext, input: LedgerInput) => {
      const h = ctx.request().headers;
      const record = `${h.get('kafka.topic')}/${h.get('kafka.partition')}/${h.get('kafka.offset')}`;
      const invocationId = ctx.request().id;
      try {
        if (input.op === 'flaky' && !failedOnce.has(record)) {
          failedOnce.add(record);
          throw new Error('flaky: the first attempt fails, a retry succeeds');
        }
        const count = ((await ctx.get<number>('count')) ?? 0) + 1;
        ctx.set('count', count);
        if (input.op === 'clear') {
          ctx.clear('total');
          ctx.clear('refused');
        } else {
          ctx.set('total', ((await ctx.get<number>('total')) ?? 0) + input.n);
        }
        if (input.op === 'refuse') {
          ctx.set('refused', input.n);
          throw new restate.TerminalError(`refused ${input.n}`, { errorCode: 409 });
        }
        const doubled = await ctx.run('double', () => {
          runs.set(record, (runs.get(record) ?? 0) + 1);
          return input.n * 2;
        });
        const rand = ctx.rand.random();
        const at = await ctx.date.now();
        draws.set(record, [...(draws.get(record) ?? []), `${rand}@${at}`]);
        const output = {
          key: ctx.key,
          count,
          total: (await ctx.get<number>('total')) ?? null,
          doubled,
          stateKeys: (await ctx.stateKeys()).sort(),
          partition: h.get('kafka.partition'),
          offset: h.get('kafka.offset'),
          kafkaKey: h.get('kafka.key') ?? null,
          draw: `${rand}@${at}`,
        };
        outcomes.set(record, { invocationId, output });
        return output;
      } catch (err) {
        if (err instanceof restate.TerminalError) {
          outcomes.set(record, {
            invocationId,
            terminal: { message: err.message, code: err.code },
          });
        }
        throw err;
      }
    },
  },
});

/** The records, the same on both topics: key, partition, what to do. */
const RECORDS: [string, number, LedgerInput][] = [
  ['alice', 0, { op: 'add', n: 5 }],
  ['bob', 1, { op: 'add', n: 1 }],
  ['carol', 0, { op: 'clear', n: 0 }],
  ['alice', 0, { op: 'add', n: 7 }],
  ['bob', 1, { op: 'flaky', n: 10 }],
  ['alice', 0, { op: 'refuse', n: 3 }],
  ['carol', 0, { op: 'add', n: 3 }],
  ['alice', 0, { op: 'flaky', n: 2 }],
  ['bob', 1, { op: 'refuse', n: 6 }],
  ['alice', 0, { op: 'clear', n: 0 }],
  ['alice', 0, { op: 'add', n: 4 }],
  // Its key's base64 has both a character that differs between the two alphabets and padding.
  ['~~~?', 1, { op: 'add', n: 2 }],
];

const records = (): OutgoingRecord[] =>
  RECORDS.map(([key, partition, input]) => ({ key, partition, value: JSON.stringify(input) }));

/** `partition/offset` of each record in a fresh topic, in production order. */
function positions(): string[] {
  const next = [0, 0];
  return RECORDS.map(([, partition]) => `${partition}/${next[partition]++}`);
}

/** sys_invocation columns Tributary's GET /invocations also shows, by the same names. */
const INTROSPECTED = [
  'id',
  'target',
  'target_service_name',
  'target_service_key',
  'target_handler_name',
  'status',
  'completion_result',
  'completion_failure',
  'invoked_by',
  'retry_count',
  'last_failure',
  'last_failure_error_code',
] as const;
type Introspected = Partial<Record<(typeof INTROSPECTED)[number], string | number | null>>;
/** Those compared as they are. */
const COMPARED = [
  'target',
  'target_service_name',
  'target_service_key',
  'target_handler_name',
  'status',
  'completion_result',
  'invoked_by',
] as const;

/** A record's outcome without what differs by system: ids, the topic, the random draw. */
function comparable(o: Outcome): unknown {
  if (o.terminal) return { terminal: o.terminal };
  const { draw: _draw, ...rest } = o.output as Record<string, unknown>;
  return { output: rest };
}

describe('the same Restate SDK service on the Restate server and on Tributary', () => {
  const kafka = testKafka();
  let server: RestateServer;
  let pipeline: Pipeline;
  let endpoint: RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  const restateTopic = uniqueName('parity-restate');
  const tributaryTopic = uniqueName('parity-tributary');
  let restateSub: string;
  let tributarySub: string;

  beforeAll(async () => {
    endpoint = await startHttp2Endpoint(
      restate
        .endpoint()
        .bind(ledger)
        .setLogger(() => undefined)
        .http2Handler(),
    );
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    const [s, p] = await Promise.all([
      RestateServer.start(),
      Pipeline.start('restate_parity'),
      admin.ensureTopics([
        { topic: restateTopic, partitions: 2 },
        { topic: tributaryTopic, partitions: 2 },
      ]),
    ]);
    server = s;
    pipeline = p;
  });

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await server?.stop();
    await endpoint?.close();
  });

  it('registers the endpoint with both and subscribes the handler to a topic on each', async () => {
    await server.admin('POST', '/deployments', { uri: endpoint.url });
    const registered = await pipeline.admin('POST', '/deployments', { uri: endpoint.url });
    expect(registered.status).toBe(201);
    const sink = 'service://Ledger/apply';
    const options = { 'auto.offset.reset': 'earliest' };
    restateSub = (
      await server.admin<{ id: string }>('POST', '/subscriptions', {
        source: `kafka://local/${restateTopic}`,
        sink,
        options,
      })
    ).id;
    const sub = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${tributaryTopic}`,
      sink,
      options,
    });
    expect(sub.status).toBe(201);
    tributarySub = sub.body.id as string;
    expect(restateSub).toMatch(/^sub_/);
    expect(tributarySub).toMatch(/^sub_/);
  });

  it('ends every record the same way and leaves every key with the same state', async () => {
    await producer.send(restateTopic, records());
    await producer.send(tributaryTopic, records());
    const at = positions();
    const ended = (topic: string): Outcome[] | undefined => {
      const got = at.map((p) => outcomes.get(`${topic}/${p}`));
      return got.every((o) => o !== undefined) ? got : undefined;
    };
    const onRestate = await waitFor(
      () => ended(restateTopic),
      `${RECORDS.length} records handled by Restate\n${server.output().slice(-3000)}`,
      60_000,
      100,
    );
    const onTributary = await waitFor(
      () => ended(tributaryTopic),
      `${RECORDS.length} records handled by Tributary\n${pipeline.outputs()}`,
      60_000,
      100,
    );

    // The handler saw the same thing and ended the same way for every record.
    expect(onTributary.map(comparable)).toEqual(onRestate.map(comparable));
    // And it is what the records mean (so that both being wrong the same way fails too).
    expect(onRestate.map(comparable)[5]).toEqual({ terminal: { message: 'refused 3', code: 409 } });
    expect(onRestate.map(comparable)[10]).toMatchObject({
      output: { key: 'alice', count: 6, total: 4, doubled: 8, stateKeys: ['count', 'total'] },
    });
    // Restate's kafka.key: the URL-safe alphabet, with padding.
    expect(onRestate.map(comparable)[11]).toMatchObject({ output: { kafkaKey: 'fn5-Pw==' } });

    for (const topic of [restateTopic, tributaryTopic]) {
      for (const [i, p] of at.entries()) {
        const record = `${topic}/${p}`;
        if (RECORDS[i][2].op === 'refuse') continue;
        // Each ctx.run closure ran once, on both, though Tributary's SDK suspends on it.
        expect({ record, runs: runs.get(record) }).toEqual({ record, runs: 1 });
        // Every execution of an invocation drew the same ctx.rand and read the same ctx.date.
        const seen = draws.get(record)!;
        expect(new Set(seen).size).toBe(1);
        expect((outcomes.get(record)!.output as { draw: string }).draw).toBe(seen[0]);
      }
    }

    // What each system shows of its invocations, by the same column names: Restate's
    // sys_invocation (POST /query), Tributary's GET /invocations.
    const restateRows = await waitFor(
      async () => {
        const rows = await server.query<Introspected>(
          `SELECT ${INTROSPECTED.join(', ')} FROM sys_invocation
            WHERE invoked_by_subscription_id = '${restateSub}'`,
        );
        return rows.length === RECORDS.length && rows.every((r) => r.status === 'completed')
          ? rows
          : undefined;
      },
      `${RECORDS.length} completed invocations in Restate's sys_invocation`,
      30_000,
      200,
    );
    const tributaryRows = await waitFor(
      async () => {
        const res = await pipeline.admin(
          'GET',
          `/invocations?subscription_id=${tributarySub}&status=completed`,
        );
        const rows = res.body.invocations as Introspected[];
        return rows.length === RECORDS.length ? rows : undefined;
      },
      `${RECORDS.length} completed invocations in Tributary's GET /invocations\n${pipeline.outputs()}`,
      30_000,
      200,
    );
    // Restate writes a failure as `[code] message`; Tributary shows the message and, beside it,
    // the code as last_failure_error_code, which it keeps, with retry_count and last_failure, once
    // the invocation completed (Restate's are null then), so those are not compared.
    const shown = (rows: Introspected[], outs: Outcome[], system: 'restate' | 'tributary') =>
      outs.map((o) => {
        const row = rows.find((r) => r.id === o.invocationId);
        if (!row) return `no invocation ${o.invocationId}`;
        const failure =
          system === 'tributary' && row.completion_failure !== null
            ? `[${String(row.last_failure_error_code)}] ${String(row.completion_failure)}`
            : (row.completion_failure ?? null);
        return {
          ...Object.fromEntries(COMPARED.map((c) => [c, row[c] ?? null])),
          completion_failure: failure,
        };
      });
    expect(shown(tributaryRows, onTributary, 'tributary')).toEqual(
      shown(restateRows, onRestate, 'restate'),
    );
    expect(shown(restateRows, onRestate, 'restate')[5]).toMatchObject({
      completion_result: 'failure',
      completion_failure: '[409] refused 3',
    });
    // And each success's stored output is what the handler returned, on both.
    for (const [system, outs, outputOf] of [
      [
        'restate',
        onRestate,
        (id: string) => fetch(`${server.ingressUrl}/restate/invocation/${id}/output`),
      ],
      [
        'tributary',
        onTributary,
        (id: string) => fetch(`${pipeline.adminUrl}/invocations/${id}/output`),
      ],
    ] as const) {
      for (const o of outs.filter((x) => x.output !== undefined)) {
        const res = await outputOf(o.invocationId);
        expect({ system, status: res.status, output: await res.json() }).toEqual({
          system,
          status: 200,
          output: o.output,
        });
      }
    }

    // The state each key ended with: Restate's `state` table, Tributary's object_state.
    const restateState = await server.query<{
      service_key: string;
      key: string;
      value_utf8: string;
    }>(`SELECT service_key, key, value_utf8 FROM state WHERE service_name = 'Ledger'`);
    const tributaryState: { object_key: string; state_key: string; value: Buffer }[] =
      await pipeline.ds.query(
        `SELECT object_key, state_key, value FROM object_state WHERE service_name = 'Ledger'`,
      );
    const byKey = (rows: [string, string, string][]) =>
      Object.fromEntries(
        rows
          .map(([k, name, v]) => [`${k}.${name}`, JSON.parse(v) as unknown] as const)
          .sort(([a], [b]) => a.localeCompare(b)),
      );
    const restateFinal = byKey(restateState.map((r) => [r.service_key, r.key, r.value_utf8]));
    expect(
      byKey(tributaryState.map((r) => [r.object_key, r.state_key, r.value.toString()])),
    ).toEqual(restateFinal);
    expect(restateFinal).toEqual({
      'alice.count': 6,
      'alice.total': 4,
      'bob.count': 3,
      'bob.refused': 6,
      'bob.total': 17,
      'carol.count': 2,
      'carol.total': 3,
      '~~~?.count': 1,
      '~~~?.total': 2,
    });
  });
});
