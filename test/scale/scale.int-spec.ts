import { Admin, AssignerProtocol, ConfigResourceTypes, Producer } from 'kafkajs';
import { busTopics, invokerGroup } from '../../libs/shared/src/contracts/topics';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { createKafka, KafkajsAdmin } from '../../libs/shared/src/kafka/kafkajs.client';
import {
  CLUSTER_BROKERS as BROKERS,
  clusterDown,
  clusterUp,
  leaderOf,
  signalNode,
} from '../support/cluster';
import { uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';
import { Execution, FaultHandler } from '../faults/fault-handler';

/**
 * The scale-out suite: a 3-broker KRaft cluster (scripts/infra-up.sh --brokers 3), 3 consumer
 * workers and 3 invokers, a keyed subscription (virtual object `Counter/add`) on a 12-partition
 * topic and an unkeyed one (service `Sink/record`) on another 12-partition topic, SCALE_RECORDS
 * records on each, while the broker leading bus partition 0 is SIGKILLed and brought back, and a
 * worker and an invoker are SIGKILLed and one more of each is started. `npm test` runs it at the
 * small size (SCALE_RECORDS unset: 600 records per topic); `npm run test:scale` at 30,000.
 */
const RECORDS = Number(process.env.SCALE_RECORDS ?? 600);
/** Records of both subscriptions together: what the pacing and the events below count. */
const TOTAL = 2 * RECORDS;
const KEYS = Number(process.env.SCALE_KEYS ?? 120);
const PARTITIONS = 12;
const BUS_PARTITIONS = 12;
const CHUNKS = 40;

jest.setTimeout(Math.max(900_000, RECORDS * 120));

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

describe(`scale-out suite: ${RECORDS} keyed + ${RECORDS} unkeyed records, ${BROKERS} brokers, 3+1 workers, 3+1 invokers`, () => {
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
    await clusterDown();
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
    // A topic of PARTITIONS partitions replicated over the brokers, and its subscription to `sink`.
    // Created as the apps create theirs (ensureTopics): on a cluster, a broker may not know a new
    // topic yet when kafkajs asks it for the leaders, and kafkajs then gives up at once.
    const topics = new KafkajsAdmin(admin);
    const subscribe = async (name: string, sink: string) => {
      const topic = uniqueName(name);
      await topics.ensureTopics([
        {
          topic,
          partitions: PARTITIONS,
          replicationFactor: BROKERS,
          config: { 'min.insync.replicas': '2' },
        },
      ]);
      const created = await pipeline.admin('POST', '/subscriptions', {
        source: `kafka://local/${topic}`,
        sink,
        options: {
          'auto.offset.reset': 'earliest',
          'session.timeout.ms': '6000',
          'heartbeat.interval.ms': '1000',
        },
      });
      expect(created.status).toBe(201);
      return { topic, sub: created.body.id as string };
    };
    const { topic, sub } = await subscribe('scale', 'service://Counter/add');
    // The unkeyed subscription: records without keys, spread over its 12 partitions, to a plain
    // service, whose invocations run in parallel with no per-key exclusion.
    const { topic: unkeyedTopic, sub: unkeyedSub } = await subscribe(
      'scale-unkeyed',
      'service://Sink/record',
    );

    // Completed invocations of both subscriptions.
    const completedCount = async (): Promise<number> => {
      const [{ n }] = await pipeline.ds.query(
        `SELECT count(*)::int AS n FROM invocations WHERE subscription_id = ANY($1) AND status = 'completed'`,
        [[sub, unkeyedSub]],
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
    // It is paced by the pipeline: a chunk goes out once at most a tenth of the records are
    // produced and not yet completed, so every event below happens with records in flight. Each
    // chunk has its unkeyed twin: records u = from .. to - 1 without a key, u on partition u % 12.
    const perKey = new Map<string, number>();
    let holdProducer = false;
    let producing = Promise.resolve();
    const stream = (async () => {
      for (let c = 0; c < CHUNKS && !finished; c++) {
        const from = Math.floor((RECORDS * c) / CHUNKS);
        while (
          !finished &&
          (holdProducer || (await completedCount().catch(() => 0)) < 2 * from - TOTAL / 10)
        ) {
          await new Promise((r) => setTimeout(r, 100));
        }
        const to = Math.floor((RECORDS * (c + 1)) / CHUNKS);
        // One send per partition: kafkajs 2.2.4 retries a send that spans several leaders only to
        // those that had not answered, and dropped the records of partitions that had moved to
        // one that had (docs/scaling.md): here 193 records after the killed broker came back.
        // A send to one partition is all or nothing.
        const perPartition = new Map<number, { key: string; value: string; partition: number }[]>();
        const unkeyed = new Map<number, { value: string; partition: number }[]>();
        for (let i = from; i < to; i++) {
          const partition = i % PARTITIONS;
          if (!unkeyed.has(partition)) unkeyed.set(partition, []);
          unkeyed.get(partition)!.push({ value: JSON.stringify({ u: i }), partition });
        }
        for (let i = from; i < to; i++) {
          const k = i % KEYS;
          const key = `key-${k}`;
          const n = perKey.get(key) ?? 0;
          perKey.set(key, n + 1);
          const partition = k % PARTITIONS;
          if (!perPartition.has(partition)) perPartition.set(partition, []);
          perPartition.get(partition)!.push({ key, value: JSON.stringify({ n }), partition });
        }
        producing = Promise.all([
          ...[...perPartition.values()].map((messages) =>
            producer.send({ topic, acks: -1, messages }),
          ),
          ...[...unkeyed.values()].map((messages) =>
            producer.send({ topic: unkeyedTopic, acks: -1, messages }),
          ),
        ]).then(() => undefined);
        await producing;
      }
    })();

    const reach = (fraction: number) =>
      waitFor(
        async () => (await completedCount().catch(() => 0)) >= TOTAL * fraction,
        `${fraction * 100}% completed\n${pipeline.outputs()}`,
        600_000,
        250,
      );

    await reach(0.15);
    holdProducer = true;
    await producing;
    const leader = await leaderOf(admin, busTopic, 0);
    signalNode(leader, 'SIGKILL');
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
    const produced = (await recordsIn(admin, topic)) + (await recordsIn(admin, unkeyedTopic));
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
        return lastCount >= TOTAL ? true : undefined;
      },
      `all ${TOTAL} invocations completed\n${pipeline.outputs()}`,
      Math.max(600_000, TOTAL * 30),
      500,
    ).catch((err: unknown) => {
      // The count reached and the events, which the message above, built up front, cannot say.
      throw new Error(
        `${lastCount} of ${TOTAL} completed; events: ${JSON.stringify(faults)}; ${String(err)}`,
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
    expect(byKey.size).toBe(Math.min(KEYS, RECORDS));
    // State: each key's count equals its record count.
    const state: { object_key: string; value: Buffer }[] = await pipeline.ds.query(
      `SELECT object_key, value FROM object_state WHERE service_name = 'Counter' AND state_key = 'count'`,
    );
    const counts = new Map(state.map((s) => [s.object_key, Number(s.value.toString())]));
    const wrongCounts = [...perKey].filter(([k, n]) => counts.get(k) !== n);
    expect(wrongCounts).toEqual([]);

    // The unkeyed subscription: the topic holds its records; each has exactly one invocation,
    // completed successfully, unkeyed (not exclusive), on the partition it was written to.
    expect(await recordsIn(admin, unkeyedTopic)).toBe(RECORDS);
    const unkeyedRows = await pipeline.ds
      .getRepository(InvocationEntity)
      .find({ where: { subscriptionId: unkeyedSub } });
    expect(unkeyedRows).toHaveLength(RECORDS);
    expect(
      unkeyedRows.every(
        (r) =>
          r.status === 'completed' &&
          r.completionResult === 'success' &&
          !r.exclusive &&
          r.targetKey === '' &&
          r.targetService === 'Sink',
      ),
    ).toBe(true);
    const rowsPerPartition = new Map<number, number>();
    for (const r of unkeyedRows)
      rowsPerPartition.set(r.kafkaPartition!, (rowsPerPartition.get(r.kafkaPartition!) ?? 0) + 1);
    const expectedPerPartition = new Map<number, number>();
    for (let u = 0; u < RECORDS; u++)
      expectedPerPartition.set(u % PARTITIONS, (expectedPerPartition.get(u % PARTITIONS) ?? 0) + 1);
    expect([...rowsPerPartition].sort((a, b) => a[0] - b[0])).toEqual(
      [...expectedPerPartition].sort((a, b) => a[0] - b[0]),
    );
    // By the handler's account: every record u ran (a retry after a kill may run one again),
    // and it came from partition u % 12; nothing else ran.
    const sinkRuns = new Map<number, number>();
    const misplaced = handler.sinkExecutions.filter((e) => e.partition !== e.u % PARTITIONS);
    for (const e of handler.sinkExecutions) sinkRuns.set(e.u, (sinkRuns.get(e.u) ?? 0) + 1);
    const neverRan = Array.from({ length: RECORDS }, (_, u) => u).filter((u) => !sinkRuns.has(u));
    expect(neverRan).toEqual([]);
    expect(sinkRuns.size).toBe(RECORDS);
    expect(misplaced).toEqual([]);

    // Each subscription's partitions spread over the live workers, by the admin API.
    const liveWorkers = ['worker-1', 'worker-2', 'worker-3'];
    const spreadOf = (id: string) =>
      waitFor(
        async () => {
          const { body } = await pipeline.admin('GET', `/subscriptions/${id}`);
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
        `the ${PARTITIONS} partitions of ${id} held by ${liveWorkers.join(', ')} (admin API)`,
        60_000,
        500,
      );
    const workerSpread = await spreadOf(sub);
    const unkeyedWorkerSpread = await spreadOf(unkeyedSub);
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

    const retried = [...rows, ...unkeyedRows].filter((r) => r.retryCount > 0).length;
    const summary = [
      `scale-out suite: ${RECORDS} keyed records (${KEYS} keys) and ${RECORDS} unkeyed records, each on ${PARTITIONS} partitions (RF 3), bus ${BUS_PARTITIONS} partitions (RF 3, min.insync.replicas 2), ${BROKERS} brokers`,
      '',
      '| time (UTC) | event | invocations completed then |',
      '|---|---|---|',
      ...faults.map((f) => `| ${f.at} | ${f.fault} | ${f.completed} |`),
      '',
      '| check | result |',
      '|---|---|',
      `| keyed records with exactly one completed invocation | ${rows.length} / ${RECORDS} |`,
      `| unkeyed records with exactly one completed invocation | ${unkeyedRows.length} / ${RECORDS} |`,
      `| unkeyed invocations per source partition | ${[...rowsPerPartition]
        .sort((a, b) => a[0] - b[0])
        .map(([p, n]) => `${p}:${n}`)
        .join(' ')} |`,
      `| keys whose executions followed partition order | ${byKey.size - orderViolations.length} / ${perKey.size} |`,
      `| overlapping executions of one key | ${spanOverlaps} |`,
      `| keys whose state count equals their record count | ${perKey.size - wrongCounts.length} / ${perKey.size} |`,
      `| handler executions (Counter/add, Sink/record) | ${handler.executions.length}, ${handler.sinkExecutions.length} |`,
      `| invocations that needed a retry | ${retried} |`,
      `| partitions per live worker, keyed (admin API) | ${[...workerSpread].map(([w, n]) => `${w} ${n}`).join(', ')} |`,
      `| partitions per live worker, unkeyed (admin API) | ${[...unkeyedWorkerSpread].map(([w, n]) => `${w} ${n}`).join(', ')} |`,
      `| bus partitions per live invoker (group assignment) | ${invokerSpread.join(', ')} |`,
      `| invocations completed per live invoker (metrics, since its start) | ${completedBy.join(', ')} |`,
      `| time from subscription setup to all completed | ${elapsedS.toFixed(0)} s |`,
    ].join('\n');
    process.stdout.write(`\n${summary}\n\n`);
  });
});
