import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Admin, AssignerProtocol, ConfigResourceTypes, Producer } from 'kafkajs';
import { busTopics, invokerGroup } from '../../libs/shared/src/contracts/topics';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { createKafka } from '../../libs/shared/src/kafka/kafkajs.client';
import { uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';
import { ROOT } from '../support/processes';
import { Execution, FaultHandler } from '../faults/fault-handler';

/**
 * The scale-out suite: a 3-broker KRaft cluster (scripts/infra-up.sh --brokers 3), 3 consumer
 * workers and 3 invokers, a keyed subscription on a 12-partition topic, while the broker leading
 * bus partition 0 is SIGKILLed and brought back, and a worker and an invoker are SIGKILLed and one
 * more of each is started. Run by `npm run test:scale` only (SCALE_RECORDS, default 3000).
 */
const RECORDS = Number(process.env.SCALE_RECORDS ?? 3_000);
const KEYS = Number(process.env.SCALE_KEYS ?? 120);
const BROKERS = 3;
const PARTITIONS = 12;
const BUS_PARTITIONS = 12;
const CHUNKS = 40;

jest.setTimeout(Math.max(900_000, RECORDS * 120));

// Asynchronous on purpose: the handler runs in this process and must keep serving meanwhile.
const run = promisify(execFile);

/** Starts the cluster (or the nodes of it that are down) and returns its bootstrap list. */
async function clusterUp(): Promise<string[]> {
  const { stdout } = await run('bash', [
    path.join(ROOT, 'scripts/infra-up.sh'),
    '--brokers',
    String(BROKERS),
  ]);
  const line = /\[infra\] bootstrap: (\S+)/.exec(stdout);
  if (!line)
    throw new Error(`infra-up.sh --brokers ${BROKERS} printed no bootstrap list:\n${stdout}`);
  return line[1].split(',');
}

/** Where scripts/infra-cluster.sh keeps node i's pid file. */
function nodePidFile(nodeId: number): string {
  const cache =
    process.env.TRIBUTARY_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'tributary');
  const state = process.env.TRIBUTARY_KAFKA_CLUSTER_STATE ?? path.join(cache, 'kafka-cluster');
  return path.join(state, `node-${nodeId}`, 'broker.pid');
}

/** Records in the topic (no transactions: the end offsets add up to them), retried while a
 * leader moves. */
async function recordsIn(admin: Admin, topic: string): Promise<number> {
  return waitFor(
    async () => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0),
    `the end offsets of ${topic}`,
    60_000,
    500,
  );
}

async function leaderOf(admin: Admin, topic: string, partition: number): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = meta.topics[0].partitions.find((x) => x.partitionId === partition);
  if (!p) throw new Error(`${topic} has no partition ${partition}`);
  return p.leader;
}

describe(`scale-out suite: ${RECORDS} records, ${BROKERS} brokers, 3+1 workers, 3+1 invokers`, () => {
  const handler = new FaultHandler({ http500: 0, timeout: 0, dropped: 0 });
  let brokers: string[];
  let pipeline: Pipeline;
  let admin: Admin;
  let producer: Producer;
  const faults: { at: string; fault: string; completed: number }[] = [];
  // Ends the producing loop when the test is over, passed or failed.
  let finished = false;

  beforeAll(async () => {
    brokers = await clusterUp();
    await handler.start();
    pipeline = await Pipeline.start('scale', {
      workers: 3,
      invokers: 3,
      brokers,
      busPartitions: BUS_PARTITIONS,
      extraConfig: [
        'replication-factor = 3',
        '[invoker]',
        'request-timeout = "5s"',
        'lease-ttl = "3s"',
      ],
    });
    const kafka = createKafka(
      { brokers, clientId: 'tributary-scale', retry: { retries: 10 } },
      'test',
    );
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    finished = true;
    await producer?.disconnect();
    await admin?.disconnect();
    await pipeline?.stop();
    await handler.stop();
    await run('bash', [path.join(ROOT, 'scripts/infra-down.sh'), '--brokers', String(BROKERS)]);
  });

  it('loses nothing, keeps per-key order, never overlaps, counts exactly and spreads the work', async () => {
    const started = Date.now();
    // The bus topic as the invokers created it: replicated over the 3 brokers, 2 in sync needed.
    const busTopic = busTopics(pipeline.busPrefix).invocations;
    const busMeta = await admin.fetchTopicMetadata({ topics: [busTopic] });
    expect(busMeta.topics[0].partitions).toHaveLength(BUS_PARTITIONS);
    expect(busMeta.topics[0].partitions.every((p) => p.replicas.length === BROKERS)).toBe(true);
    const busConfig = await admin.describeConfigs({
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: busTopic, configNames: ['min.insync.replicas'] },
      ],
      includeSynonyms: false,
    });
    expect(busConfig.resources[0].configEntries[0].configValue).toBe('2');

    expect((await pipeline.admin('POST', '/deployments', { uri: handler.url })).status).toBe(201);
    const topic = uniqueName('scale');
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: PARTITIONS,
          replicationFactor: BROKERS,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
    });
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

    // The stream: each key's records carry n = 0, 1, 2, ... in the order produced. The producer
    // stands for the outside world, not the system under test: it holds still while a broker is
    // down, since a send retried after a lost answer would write its records twice (kafkajs's
    // idempotent producer did so here, 18 extra records), which the exact counts below forbid.
    const perKey = new Map<string, number>();
    let holdProducer = false;
    let producing = Promise.resolve();
    const stream = (async () => {
      for (let c = 0; c < CHUNKS && !finished; c++) {
        while (holdProducer && !finished) await new Promise((r) => setTimeout(r, 100));
        const from = Math.floor((RECORDS * c) / CHUNKS);
        const to = Math.floor((RECORDS * (c + 1)) / CHUNKS);
        const messages = [];
        for (let i = from; i < to; i++) {
          const key = `key-${i % KEYS}`;
          const n = perKey.get(key) ?? 0;
          perKey.set(key, n + 1);
          messages.push({ key, value: JSON.stringify({ n }) });
        }
        producing = producer.send({ topic, acks: -1, messages }).then(() => undefined);
        await producing;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const reach = (fraction: number) =>
      waitFor(
        async () => (await completedCount().catch(() => 0)) >= RECORDS * fraction,
        `${fraction * 100}% completed\n${pipeline.outputs()}`,
        600_000,
        250,
      );

    await reach(0.15);
    holdProducer = true;
    await producing;
    const leader = await leaderOf(admin, busTopic, 0);
    process.kill(Number(readFileSync(nodePidFile(leader), 'utf8').trim()), 'SIGKILL');
    await note(`SIGKILL broker ${leader} (leader of bus partition 0)`);
    const newLeader = await waitFor(
      async () => {
        const l = await leaderOf(admin, busTopic, 0);
        return l !== leader && l >= 0 ? l : undefined;
      },
      `a new leader for bus partition 0 after broker ${leader} was killed`,
      60_000,
      250,
    );
    await note(`bus partition 0 led by broker ${newLeader}`);
    // With the broker down, the pipeline drains everything produced so far.
    const produced = await recordsIn(admin, topic);
    await waitFor(
      async () => (await completedCount().catch(() => 0)) >= produced,
      `the ${produced} records produced so far completed with broker ${leader} down\n${pipeline.outputs()}`,
      600_000,
      250,
    );
    await note(`all ${produced} records produced so far completed, broker ${leader} still down`);
    await clusterUp();
    await note(`broker ${leader} back (infra-up.sh --brokers 3: 3 brokers registered)`);
    holdProducer = false;
    await reach(0.45);
    pipeline.app('worker-0').process.kill('SIGKILL');
    await note('SIGKILL consumer worker-0');
    await pipeline.startApp('consumer-worker', 'TRIBUTARY_WORKER_BIND_ADDRESS', {
      TRIBUTARY_WORKER_ID: 'worker-3',
    });
    await note('consumer worker-3 started');
    await reach(0.6);
    pipeline.app('invoker-0').process.kill('SIGKILL');
    await note('SIGKILL invoker-0');
    await pipeline.startApp('invoker', 'TRIBUTARY_INVOKER_BIND_ADDRESS', {
      TRIBUTARY_INVOKER_ID: 'invoker-3',
    });
    await note('invoker-3 started');
    await stream;

    let lastCount = 0;
    await waitFor(
      async () => {
        lastCount = await completedCount().catch(() => lastCount);
        return lastCount >= RECORDS ? true : undefined;
      },
      `all ${RECORDS} invocations completed\n${pipeline.outputs()}`,
      Math.max(600_000, RECORDS * 60),
      500,
    ).catch((err: unknown) => {
      // The count reached and the events, which the message above, built up front, cannot say.
      throw new Error(
        `${lastCount} of ${RECORDS} completed; events: ${JSON.stringify(faults)}; ${String(err)}`,
      );
    });
    const elapsedS = (Date.now() - started) / 1000;
    // The topic holds exactly the records produced (no producer retry wrote any twice).
    expect(await recordsIn(admin, topic)).toBe(RECORDS);
    const rows = await pipeline.ds
      .getRepository(InvocationEntity)
      .find({ where: { subscriptionId: sub } });
    // Every record: exactly one invocation (ids are unique per record), completed successfully.
    expect(rows).toHaveLength(RECORDS);
    expect(rows.every((r) => r.status === 'completed' && r.completionResult === 'success')).toBe(
      true,
    );
    // No two executions of one key overlapped, by the handler's own account and by the spans.
    expect(handler.overlaps).toEqual([]);
    const byKey = new Map<string, Execution[]>();
    for (const e of handler.executions) {
      if (!byKey.has(e.key)) byKey.set(e.key, []);
      byKey.get(e.key)!.push(e);
    }
    let spanOverlaps = 0;
    const orderViolations: string[] = [];
    for (const [key, execs] of byKey) {
      execs.sort((a, b) => a.start - b.start);
      for (let i = 1; i < execs.length; i++) if (execs[i].start < execs[i - 1].end) spanOverlaps++;
      // Per key, executions follow partition order: retries repeat n, never go back.
      const ns = execs.map((e) => e.n).filter((n, i, all) => i === 0 || all[i - 1] !== n);
      const expected = Array.from({ length: perKey.get(key)! }, (_, i) => i);
      if (JSON.stringify(ns) !== JSON.stringify(expected)) {
        orderViolations.push(
          `${key}: ${execs.map((e) => `n=${e.n}/a${e.attempt}/${e.outcome}@${e.start % 1e6}`).join(' ')}`,
        );
      }
    }
    expect(spanOverlaps).toBe(0);
    expect(orderViolations).toEqual([]);
    expect(byKey.size).toBe(KEYS);
    // State: each key's count equals its record count.
    const state: { object_key: string; value: Buffer }[] = await pipeline.ds.query(
      `SELECT object_key, value FROM object_state WHERE service_name = 'Counter' AND state_key = 'count'`,
    );
    const counts = new Map(state.map((s) => [s.object_key, Number(s.value.toString())]));
    const wrongCounts = [...perKey].filter(([k, n]) => counts.get(k) !== n);
    expect(wrongCounts).toEqual([]);

    // The subscription's partitions spread over the live workers, by the admin API.
    const liveWorkers = ['worker-1', 'worker-2', 'worker-3'];
    const workerSpread = await waitFor(
      async () => {
        const { body } = await pipeline.admin('GET', `/subscriptions/${sub}`);
        const parts = body.partitions as { partition: number; worker: string | null }[];
        const per = new Map<string, number>();
        for (const p of parts) if (p.worker) per.set(p.worker, (per.get(p.worker) ?? 0) + 1);
        const held = [...per.values()].reduce((a, b) => a + b, 0);
        return parts.length === PARTITIONS &&
          held === PARTITIONS &&
          liveWorkers.every((w) => (per.get(w) ?? 0) > 0) &&
          per.size === liveWorkers.length
          ? per
          : undefined;
      },
      `the ${PARTITIONS} partitions held by ${liveWorkers.join(', ')} (admin API)`,
      60_000,
      500,
    );
    // The bus partitions spread over the live invokers, by the invoker group's assignment.
    const group = invokerGroup(busTopics(pipeline.busPrefix));
    const invokerSpread = await waitFor(
      async () => {
        const { groups } = await admin.describeGroups([group]);
        const members = groups[0]?.members ?? [];
        const assigned = members.map((m) => {
          const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
          return a?.assignment[busTopic] ?? [];
        });
        const all = new Set(assigned.flat());
        return groups[0]?.state === 'Stable' &&
          members.length === 3 &&
          assigned.every((a) => a.length > 0) &&
          all.size === BUS_PARTITIONS
          ? assigned.map((a) => a.length)
          : undefined;
      },
      `the ${BUS_PARTITIONS} bus partitions spread over 3 live invokers (group ${group})`,
      60_000,
      500,
    );
    // What each live invoker completed, from its metrics.
    const completedBy: string[] = [];
    for (const name of ['invoker-1', 'invoker-2', 'invoker-3']) {
      const text = await (await fetch(`${pipeline.app(name).url}/metrics`)).text();
      const total = text
        .split('\n')
        .filter((l) => l.startsWith('tributary_invoker_invocations_completed_total'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      completedBy.push(`${name} ${total}`);
    }

    const retried = rows.filter((r) => r.retryCount > 0).length;
    const summary = [
      `scale-out suite: ${RECORDS} records, ${KEYS} keys, ${PARTITIONS} partitions (RF 3), bus ${BUS_PARTITIONS} partitions (RF 3, min.insync.replicas 2), ${BROKERS} brokers`,
      '',
      '| time (UTC) | event | invocations completed then |',
      '|---|---|---|',
      ...faults.map((f) => `| ${f.at} | ${f.fault} | ${f.completed} |`),
      '',
      '| check | result |',
      '|---|---|',
      `| records with exactly one completed invocation | ${rows.length} / ${RECORDS} |`,
      `| keys whose executions followed partition order | ${byKey.size - orderViolations.length} / ${perKey.size} |`,
      `| overlapping executions of one key | ${spanOverlaps} |`,
      `| keys whose state count equals their record count | ${perKey.size - wrongCounts.length} / ${perKey.size} |`,
      `| handler executions | ${handler.executions.length} |`,
      `| invocations that needed a retry | ${retried} |`,
      `| partitions per live worker (admin API) | ${[...workerSpread].map(([w, n]) => `${w} ${n}`).join(', ')} |`,
      `| bus partitions per live invoker (group assignment) | ${invokerSpread.join(', ')} |`,
      `| invocations completed per live invoker (metrics, since its start) | ${completedBy.join(', ')} |`,
      `| time from subscription setup to all completed | ${elapsedS.toFixed(0)} s |`,
    ].join('\n');
    process.stdout.write(`\n${summary}\n\n`);
  });
});
