import './support/restate-polyfill';
import * as restate from '@restatedev/restate-sdk';
import type { FindOptionsWhere } from 'typeorm';
import { InvocationEntity } from '../libs/shared/src/database/entities';
import { KafkajsAdmin, KafkajsProducer } from '../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from './support/kafka';
import { Pipeline } from './support/pipeline';
import { RunningEndpoint, startHttp2Endpoint } from './support/restate-sdk-servers';

/**
 * What makes a Restate SDK handler durable, run by Tributary from Kafka records: timers that
 * outlive the invoker, calls and sends to other services, awakeables resolved through the admin
 * API, workflow promises and a workflow's run once per id, deterministic ctx.rand and
 * ctx.date, and a stream that feeds ctx.run results without a new request.
 */
jest.setTimeout(240_000);

/** ctx.rand values each invocation drew before its sleep, per execution. */
const drawn = new Map<string, number[]>();
/** Awakeable ids handed out, per invocation. */
const awakeables = new Map<string, string>();
/** Workflow runs that actually ran, per workflow id. */
const workflowRuns = new Map<string, number>();
/** ctx.run closures of Twice/go that ran, per invocation. */
const twiceRuns = new Map<string, number>();

const clock = restate.service({
  name: 'Clock',
  handlers: {
    nap: async (ctx: restate.Context, input: { ms: number }) => {
      const r = ctx.rand.random();
      const id = ctx.request().id;
      drawn.set(id, [...(drawn.get(id) ?? []), r]);
      const before = await ctx.date.now();
      await ctx.sleep(input.ms);
      const after = await ctx.date.now();
      return { slept: after - before, rand: r, uuid: ctx.rand.uuidv4() };
    },
  },
});

const ledger = restate.object({
  name: 'Ledger',
  handlers: {
    add: async (ctx: restate.ObjectContext, n: number) => {
      const total = ((await ctx.get<number>('total')) ?? 0) + n;
      ctx.set('total', total);
      return total;
    },
  },
});

const caller = restate.service({
  name: 'Caller',
  handlers: {
    go: async (ctx: restate.Context, input: { key: string; n: number }) => {
      const total = await ctx.objectClient(ledger, input.key).add(input.n);
      ctx.objectSendClient(ledger, input.key).add(1000, restate.rpc.sendOpts({ delay: 300 }));
      return { total };
    },
    missing: async (ctx: restate.Context) => {
      await ctx.genericCall({
        service: 'Nobody',
        method: 'home',
        parameter: new Uint8Array(),
      });
    },
  },
});

const waiter = restate.service({
  name: 'Waiter',
  handlers: {
    wait: async (ctx: restate.Context) => {
      const a = ctx.awakeable<string>();
      const id = ctx.request().id;
      await ctx.run('publish', () => {
        awakeables.set(id, a.id);
      });
      return `got ${await a.promise}`;
    },
  },
});

const patient = restate.service({
  name: 'Patient',
  handlers: {
    ask: async (ctx: restate.Context) => {
      try {
        return await ctx.serviceClient(waiter).wait();
      } catch (e) {
        if (e instanceof restate.TerminalError) return `callee failed: ${e.message}`;
        throw e;
      }
    },
  },
});

const signup = restate.workflow({
  name: 'Signup',
  handlers: {
    run: async (ctx: restate.WorkflowContext) => {
      await ctx.run('count', () => {
        workflowRuns.set(ctx.key, (workflowRuns.get(ctx.key) ?? 0) + 1);
      });
      const verdict = await ctx.promise<string>('approved');
      ctx.set('verdict', verdict);
      return `approved:${verdict}`;
    },
    approve: async (ctx: restate.WorkflowSharedContext, verdict: string) => {
      await ctx.promise<string>('approved').resolve(verdict);
      return await ctx.promise<string>('approved').peek();
    },
  },
});

const twice = restate.service({
  name: 'Twice',
  handlers: {
    go: async (ctx: restate.Context) => {
      const id = ctx.request().id;
      const count = () => {
        twiceRuns.set(id, (twiceRuns.get(id) ?? 0) + 1);
        return twiceRuns.get(id)!;
      };
      const a = await ctx.run('first', count);
      const b = await ctx.run('second', count);
      return [a, b];
    },
  },
});

/** Times the closure of Flaky/go ran. */
let flakyRuns = 0;

const flaky = restate.service({
  name: 'Flaky',
  handlers: {
    go: async (ctx: restate.Context) => {
      try {
        await ctx.run(
          'flaky',
          () => {
            flakyRuns += 1;
            throw new Error(`boom ${flakyRuns}`);
          },
          { maxRetryAttempts: 3, initialRetryInterval: 10 },
        );
        return 'never';
      } catch (e) {
        if (e instanceof restate.TerminalError) return `gave up: ${e.message}`;
        throw e;
      }
    },
  },
});

/** Attempts of each closure of Steps/go. */
const steps = { first: 0, second: 0 };

const stepsService = restate.service({
  name: 'Steps',
  handlers: {
    go: async (ctx: restate.Context) => {
      const retry = { initialRetryInterval: 10 };
      const a = await ctx.run(
        'first',
        () => {
          steps.first += 1;
          if (steps.first < 4) throw new Error(`first fails ${steps.first}`);
          return steps.first;
        },
        { ...retry, maxRetryAttempts: 5 },
      );
      // Three attempts allowed: the first run's failures before it do not count against it.
      const b = await ctx.run(
        'second',
        () => {
          steps.second += 1;
          if (steps.second < 3) throw new Error(`second fails ${steps.second}`);
          return steps.second;
        },
        { ...retry, maxRetryAttempts: 3 },
      );
      return [a, b];
    },
  },
});

const raw = restate.service({
  name: 'Raw',
  handlers: {
    echo: restate.handlers.handler(
      { input: restate.serde.binary, output: restate.serde.binary },
      async (ctx: restate.Context, bytes: Uint8Array) => {
        const h = ctx.request().headers;
        const meta = `${h.get('kafka.topic')}/${h.get('kafka.partition')}/${h.get('kafka.offset')}/${h.get('x-source')}`;
        return Buffer.concat([Buffer.from(bytes).reverse(), Buffer.from(`|${meta}`)]);
      },
    ),
  },
});

describe('durable execution of Restate SDK handlers (real Kafka, Postgres, processes and SDK)', () => {
  const kafka = testKafka();
  let pipeline: Pipeline;
  let endpoint: RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  const invocations = () => pipeline.ds.getRepository(InvocationEntity);

  beforeAll(async () => {
    endpoint = await startHttp2Endpoint(
      restate
        .endpoint()
        .bind(clock)
        .bind(ledger)
        .bind(caller)
        .bind(waiter)
        .bind(patient)
        .bind(signup)
        .bind(twice)
        .bind(raw)
        .bind(flaky)
        .bind(stepsService)
        .setLogger(() => undefined)
        .http2Handler(),
    );
    pipeline = await Pipeline.start('restate-durable', {
      extraConfig: ['[invoker]', 'lease-ttl = "3s"'],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    const res = await pipeline.admin('POST', '/deployments', { uri: endpoint.url });
    expect(res.status).toBe(201);
  });

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await endpoint?.close();
  });

  async function subscribe(sink: string) {
    const topic = uniqueName('restate-durable');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest' },
    });
    expect(res.status).toBe(201);
    return { topic, sub: res.body.id as string };
  }

  const completed = (where: FindOptionsWhere<InvocationEntity>, n: number) =>
    waitFor(
      async () => {
        const rows = await invocations().find({ where, order: { seq: 'ASC' } });
        return rows.length === n && rows.every((r) => r.status === 'completed') ? rows : undefined;
      },
      `${n} completed invocations of ${JSON.stringify(where)}\n${pipeline.outputs()}`,
      90_000,
      200,
    );

  const json = (row: InvocationEntity): unknown => JSON.parse(row.output!.toString());

  it('lists the endpoint as a streaming HTTP/2 deployment', async () => {
    const res = await pipeline.admin('GET', '/deployments');
    const [d] = res.body.deployments as Record<string, unknown>[];
    expect(d).toMatchObject({
      service_protocol: 'restate',
      protocol_type: 'BidiStream',
      http_version: 'HTTP/2.0',
    });
  });

  it('sleeps on a durable timer that outlives the invoker, with ctx.rand and ctx.date replayed', async () => {
    const { topic, sub } = await subscribe('service://Clock/nap');
    await producer.send(topic, [{ key: null, value: JSON.stringify({ ms: 4000 }), partition: 0 }]);
    const row = await waitFor(
      async () => (await invocations().findBy({ subscriptionId: sub, status: 'suspended' }))[0],
      `a suspended Clock/nap\n${pipeline.outputs()}`,
    );
    expect(row.nextRetryAt!.getTime()).toBeGreaterThan(Date.now());
    // The only invoker dies while the timer runs; another one, started later, fires it.
    const victim = pipeline.app('invoker-0');
    victim.process.kill('SIGKILL');
    await victim.process.exited;
    await pipeline.startApp('invoker', 'TRIBUTARY_INVOKER_BIND_ADDRESS', {
      TRIBUTARY_INVOKER_ID: 'invoker-1',
    });
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(done.completionResult).toBe('success');
    const out = json(done) as { slept: number; rand: number; uuid: string };
    expect(out.slept).toBeGreaterThanOrEqual(4000);
    // Run twice (before the sleep and after it), it drew the same number both times.
    const draws = drawn.get(done.id)!;
    expect(draws.length).toBeGreaterThanOrEqual(2);
    expect(new Set(draws).size).toBe(1);
    expect(out.rand).toBe(draws[0]);
  });

  it('calls and sends to other services: the callee is an invocation of its own, its result completes the caller', async () => {
    const { topic, sub } = await subscribe('service://Caller/go');
    await producer.send(topic, [
      { key: null, value: JSON.stringify({ key: 'acct', n: 5 }), partition: 0 },
    ]);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(json(done)).toEqual({ total: 5 });
    // The call, then the delayed send: both Ledger invocations made by the caller.
    const callees = await completed({ callerId: done.id }, 2);
    for (const c of callees) {
      expect(c).toMatchObject({ invokedBy: 'service', targetService: 'Ledger', targetKey: 'acct' });
    }
    expect(callees.map(json)).toEqual([5, 1005]);
    const [call, send] = callees;
    expect(call.callerCompletionId).not.toBeNull();
    expect(send.callerCompletionId).toBeNull();
    const view = await pipeline.admin('GET', `/invocations/${call.id}`);
    expect(view.body).toMatchObject({ invoked_by: 'service', invoked_by_id: done.id });
    const [state] = await pipeline.ds.query(
      `SELECT value FROM object_state WHERE service_name = 'Ledger' AND object_key = 'acct'`,
    );
    expect(JSON.parse((state as { value: Buffer }).value.toString())).toBe(1005);
  });

  it('fails a call to a service that is not registered, naming it', async () => {
    const { topic, sub } = await subscribe('service://Caller/missing');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(done.completionResult).toBe('failure');
    expect(done.completionFailure).toMatch(/'Nobody\/home', which is not registered/);
  });

  it('waits for an awakeable, suspended, until the admin API resolves it', async () => {
    const { topic, sub } = await subscribe('service://Waiter/wait');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const row = await waitFor(
      async () => (await invocations().findBy({ subscriptionId: sub, status: 'suspended' }))[0],
      `a suspended Waiter/wait\n${pipeline.outputs()}`,
    );
    expect(row.nextRetryAt).toBeNull();
    const id = awakeables.get(row.id)!;
    expect(id).toMatch(/^sign_1/);
    const wrong = await pipeline.admin('POST', `/restate/awakeables/sign_1nope/resolve`, {});
    expect(wrong.status).toBe(400);
    const res = await pipeline.admin('POST', `/restate/awakeables/${id}/resolve`, 'hello');
    expect(res.status).toBe(202);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(json(done)).toBe('got hello');
    const again = await pipeline.admin('POST', `/restate/awakeables/${id}/resolve`, 'late');
    expect(again.status).toBe(404);
  });

  it('pauses and resumes a suspended invocation; what arrived while paused is not lost', async () => {
    const { topic, sub } = await subscribe('service://Waiter/wait');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const row = await waitFor(
      async () => (await invocations().findBy({ subscriptionId: sub, status: 'suspended' }))[0],
      `a suspended Waiter/wait\n${pipeline.outputs()}`,
    );
    expect((await pipeline.admin('PATCH', `/invocations/${row.id}/pause`)).status).toBe(202);
    expect((await invocations().findOneByOrFail({ id: row.id })).status).toBe('paused');
    const id = awakeables.get(row.id)!;
    const res = await pipeline.admin('POST', `/restate/awakeables/${id}/resolve`, 'later');
    expect(res.status).toBe(202);
    expect((await invocations().findOneByOrFail({ id: row.id })).status).toBe('paused');
    expect((await pipeline.admin('PATCH', `/invocations/${row.id}/resume`)).status).toBe(200);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(json(done)).toBe('got later');
  });

  it('gives a caller the failure of a callee killed through the admin API while it waited', async () => {
    const { topic, sub } = await subscribe('service://Patient/ask');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const asker = await waitFor(
      async () => (await invocations().findBy({ subscriptionId: sub, status: 'suspended' }))[0],
      `a suspended Patient/ask\n${pipeline.outputs()}`,
    );
    const callee = await waitFor(
      async () => (await invocations().findBy({ callerId: asker.id, status: 'suspended' }))[0],
      `its callee, suspended on an awakeable\n${pipeline.outputs()}`,
    );
    const res = await pipeline.admin('PATCH', `/invocations/${callee.id}/kill`);
    expect(res.status).toBe(200);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(json(done)).toBe('callee failed: Invocation killed through the admin API');
  });

  it("runs a workflow's run once per workflow id, waiting on its promise until another handler resolves it", async () => {
    const runTopic = await subscribe('service://Signup/run');
    const approveTopic = await subscribe('service://Signup/approve');
    await producer.send(runTopic.topic, [{ key: 'u1', value: '{}', partition: 0 }]);
    await waitFor(
      async () =>
        (await invocations().findBy({ subscriptionId: runTopic.sub, status: 'suspended' }))[0],
      `a suspended Signup/run\n${pipeline.outputs()}`,
    );
    await producer.send(approveTopic.topic, [
      { key: 'u1', value: JSON.stringify('yes'), partition: 0 },
    ]);
    const [run] = await completed({ subscriptionId: runTopic.sub }, 1);
    expect(json(run)).toBe('approved:yes');
    const [approve] = await completed({ subscriptionId: approveTopic.sub }, 1);
    expect(json(approve)).toBe('yes');
    // A second record for the same workflow id: recorded with the run's result, not run again.
    await producer.send(runTopic.topic, [{ key: 'u1', value: '{}', partition: 0 }]);
    const [, second] = await completed({ subscriptionId: runTopic.sub }, 2);
    expect(second.workflowRunOf).toBe(run.id);
    expect(json(second)).toBe('approved:yes');
    expect(workflowRuns.get('u1')).toBe(1);
  });

  it('feeds ctx.run results on the open stream: two runs, one request, each closure once', async () => {
    const { topic, sub } = await subscribe('service://Twice/go');
    const before = endpoint.requests();
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(json(done)).toEqual([1, 2]);
    expect(twiceRuns.get(done.id)).toBe(2);
    expect(endpoint.requests() - before).toBe(1);
  });

  it('retries a failing ctx.run under its own retry options, then the handler gets it as a terminal error', async () => {
    const { topic, sub } = await subscribe('service://Flaky/go');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(done.completionResult).toBe('success');
    expect(json(done)).toMatch(/^gave up: boom 3/);
    expect(flakyRuns).toBe(3);
  });

  it("counts a ctx.run's failures since the journal last grew, not the invocation's", async () => {
    const { topic, sub } = await subscribe('service://Steps/go');
    await producer.send(topic, [{ key: null, value: '{}', partition: 0 }]);
    const [done] = await completed({ subscriptionId: sub }, 1);
    expect(done.completionResult).toBe('success');
    expect(json(done)).toEqual([4, 3]);
  });

  it('gives a binary handler the record bytes as they are, and the Kafka metadata as headers', async () => {
    const { topic, sub } = await subscribe('service://Raw/echo');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    await producer.send(topic, [
      { key: null, value: bytes, partition: 0, headers: { 'x-source': 'test' } },
    ]);
    const [done] = await completed({ subscriptionId: sub }, 1);
    const out = done.output!;
    expect([...out.subarray(0, 5)]).toEqual([254, 255, 2, 1, 0]);
    expect(out.subarray(5).toString()).toBe(`|${topic}/0/0/test`);
  });
});
