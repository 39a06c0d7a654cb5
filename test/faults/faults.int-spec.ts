import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';
import { ROOT } from '../support/processes';
import { Execution, FaultHandler } from './fault-handler';

/**
 * The fault suite: a stream of records to a counting virtual object while a worker and an
 * invoker are SIGKILLed, the broker and Postgres restart, and the handler fails at random.
 * `npm test` runs it at CI size; `npm run test:faults` at full size (FAULT_RECORDS=20000).
 */
const RECORDS = Number(process.env.FAULT_RECORDS ?? 2_000);
const KEYS = Number(process.env.FAULT_KEYS ?? 120);
const PARTITIONS = 8;
const CHUNKS = 40;

jest.setTimeout(Math.max(600_000, RECORDS * 60));

// Asynchronous on purpose: the handler runs in this process and must keep serving meanwhile.
const run = promisify(execFile);

async function restartKafka(): Promise<void> {
  await run('bash', [path.join(ROOT, 'scripts/infra-down.sh')]);
  await run('bash', [path.join(ROOT, 'scripts/infra-up.sh')]);
}

async function restartPostgres(): Promise<void> {
  const { stdout } = await run('bash', ['-c', 'ls /etc/postgresql | sort -V | tail -n1']);
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', stdout.trim(), 'main', 'restart']);
}

describe(`fault suite: ${RECORDS} records over ${KEYS} keys`, () => {
  const kafka = testKafka('tributary-faults');
  const handler = new FaultHandler({ http500: 0.04, timeout: 0.01, dropped: 0.03 });
  let pipeline: Pipeline;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  const faults: { at: string; fault: string; completed: number }[] = [];

  beforeAll(async () => {
    await handler.start();
    pipeline = await Pipeline.start('faults', {
      workers: 2,
      invokers: 2,
      extraConfig: ['[invoker]', 'request-timeout = "2s"', 'lease-ttl = "3s"'],
    });
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
  });

  afterAll(async () => {
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await handler.stop();
  });

  it('loses nothing, keeps per-key order, never overlaps, and counts every record once', async () => {
    expect((await pipeline.admin('POST', '/deployments', { uri: handler.url })).status).toBe(201);
    const topic = uniqueName('faults');
    await admin.ensureTopics([{ topic, partitions: PARTITIONS }]);
    const created = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink: 'service://Counter/add',
      options: {
        'auto.offset.reset': 'earliest',
        'session.timeout.ms': '6000',
        'heartbeat.interval.ms': '1000',
      },
    });
    expect(created.status).toBe(201);
    const sub = created.body.id as string;

    const completedCount = async (): Promise<number> => {
      const [{ n }] = await pipeline.ds.query(
        `SELECT count(*)::int AS n FROM invocations WHERE subscription_id = $1 AND status = 'completed'`,
        [sub],
      );
      return n as number;
    };
    const note = async (fault: string) =>
      faults.push({
        at: new Date().toISOString().slice(11, 19),
        fault,
        completed: await completedCount().catch(() => -1),
      });

    // The stream: each key's records carry n = 0, 1, 2, ... in the order produced.
    const perKey = new Map<string, number>();
    let producing = Promise.resolve();
    const produceChunk = async (chunk: number) => {
      const from = Math.floor((RECORDS * chunk) / CHUNKS);
      const to = Math.floor((RECORDS * (chunk + 1)) / CHUNKS);
      const records = [];
      for (let i = from; i < to; i++) {
        const key = `key-${i % KEYS}`;
        const n = perKey.get(key) ?? 0;
        perKey.set(key, n + 1);
        records.push({ key, value: JSON.stringify({ n }) });
      }
      await producer.send(topic, records);
    };
    // The producer stands for the outside world, not the system under test: it holds still
    // while the broker restarts instead of failing the run.
    let holdProducer = false;
    const stream = (async () => {
      for (let c = 0; c < CHUNKS; c++) {
        while (holdProducer) await new Promise((r) => setTimeout(r, 100));
        producing = produceChunk(c);
        await producing;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const reach = (fraction: number) =>
      waitFor(
        async () => (await completedCount().catch(() => 0)) >= RECORDS * fraction,
        `${fraction * 100}% completed`,
        300_000,
        250,
      );

    await reach(0.1);
    pipeline.app('worker-0').process.kill('SIGKILL');
    await note('SIGKILL consumer worker-0');
    await reach(0.25);
    pipeline.app('invoker-0').process.kill('SIGKILL');
    await note('SIGKILL invoker-0');
    await reach(0.4);
    holdProducer = true;
    await producing;
    await note('Kafka broker restart (begin)');
    await restartKafka();
    await note('Kafka broker restart (done)');
    holdProducer = false;
    await reach(0.6);
    await note('Postgres restart (begin)');
    await restartPostgres();
    await note('Postgres restart (done)');
    await stream;

    // Polled with a count: loading every row each time would block this process's event loop,
    // which also runs the handler, for hundreds of milliseconds at 20,000 rows, delaying what the
    // handler sees (a closed connection) and so what the overlap check below reports.
    await waitFor(
      async () => ((await completedCount().catch(() => 0)) >= RECORDS ? true : undefined),
      `all ${RECORDS} invocations completed\n${pipeline.outputs()}`,
      Math.max(300_000, RECORDS * 30),
      500,
    );
    const rows = await pipeline.ds
      .getRepository(InvocationEntity)
      .find({ where: { subscriptionId: sub } });
    expect(rows).toHaveLength(RECORDS);
    expect(rows.every((r) => r.status === 'completed')).toBe(true);
    handler.faultsOn = false;

    // Every record: exactly one invocation (ids are unique per record), completed successfully.
    expect(rows.every((r) => r.completionResult === 'success')).toBe(true);
    // No two executions of one key overlapped, by the handler's own account and by the spans.
    expect(handler.overlaps).toEqual([]);
    const byKey = new Map<string, Execution[]>();
    for (const e of handler.executions) {
      if (!byKey.has(e.key)) byKey.set(e.key, []);
      byKey.get(e.key)!.push(e);
    }
    let spanOverlaps = 0;
    let orderViolations = 0;
    const violations: string[] = [];
    for (const [key, execs] of byKey) {
      execs.sort((a, b) => a.start - b.start);
      for (let i = 1; i < execs.length; i++) if (execs[i].start < execs[i - 1].end) spanOverlaps++;
      // Per key, executions follow partition order: retries repeat n, never go back.
      const ns = execs.map((e) => e.n).filter((n, i, all) => i === 0 || all[i - 1] !== n);
      const expected = Array.from({ length: perKey.get(key)! }, (_, i) => i);
      if (JSON.stringify(ns) !== JSON.stringify(expected)) {
        orderViolations++;
        // What the handler saw, to tell a stale request (its connection closed by the invoker
        // before the handler read it: outcome 'aborted') from a real reordering.
        violations.push(
          `${key}: ${execs.map((e) => `n=${e.n}/a${e.attempt}/${e.outcome}@${e.start % 1e6}`).join(' ')}`,
        );
      }
    }
    if (violations.length > 0)
      process.stderr.write(`order violations:\n${violations.join('\n')}\n`);
    expect(spanOverlaps).toBe(0);
    expect(orderViolations).toBe(0);
    // State: each key's count equals its record count, although some attempts ran twice.
    const state: { object_key: string; value: Buffer }[] = await pipeline.ds.query(
      `SELECT object_key, value FROM object_state WHERE service_name = 'Counter' AND state_key = 'count'`,
    );
    const counts = new Map(state.map((s) => [s.object_key, Number(s.value.toString())]));
    const wrongCounts = [...perKey].filter(([k, n]) => counts.get(k) !== n);
    expect(wrongCounts).toEqual([]);
    const open = await pipeline.ds.query(
      `SELECT count(*)::int AS n FROM invocations WHERE status <> 'completed'`,
    );
    expect(open[0].n).toBe(0);

    const outcomes = new Map<string, number>();
    for (const e of handler.executions) outcomes.set(e.outcome, (outcomes.get(e.outcome) ?? 0) + 1);
    const retried = rows.filter((r) => r.retryCount > 0).length;
    const summary = [
      `fault suite: ${RECORDS} records, ${KEYS} keys, ${PARTITIONS} partitions, 2 workers, 2 invokers`,
      '',
      '| time (UTC) | fault | invocations completed then |',
      '|---|---|---|',
      ...faults.map((f) => `| ${f.at} | ${f.fault} | ${f.completed} |`),
      '',
      '| check | result |',
      '|---|---|',
      `| records with exactly one completed invocation | ${rows.length} / ${RECORDS} |`,
      `| keys whose executions followed partition order | ${byKey.size - orderViolations} / ${byKey.size} |`,
      `| overlapping executions of one key | ${spanOverlaps} |`,
      `| keys whose state count equals their record count | ${perKey.size - wrongCounts.length} / ${perKey.size} |`,
      `| invocations left non-terminal | ${open[0].n} |`,
      `| handler executions | ${handler.executions.length} (${[...outcomes].map(([o, n]) => `${o} ${n}`).join(', ')}) |`,
      `| invocations that needed a retry | ${retried} |`,
      `| handler process event-loop delay p99 / max | ${(handler.loopDelay.percentile(99) / 1e6).toFixed(0)} ms / ${(handler.loopDelay.max / 1e6).toFixed(0)} ms |`,
    ].join('\n');
    process.stdout.write(`\n${summary}\n\n`);
  });
});
