import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { busTopics } from '../../libs/shared/src/contracts/topics';
import { createTestSchema } from '../../test/support/database';
import { insertSubscription, registerService } from '../../test/support/fixtures';
import { formatProfile, latestProfile, summariseProfile } from '../lib/cpu-profile';
import {
  benchKafka,
  createTopic,
  groupLag,
  localBrokerPid,
  produceRecords,
  removeKafkaState,
  topicRecordCount,
} from '../lib/kafka';
import { freePort, healthy, ROOT, spawnTributaryApp } from '../lib/processes';
import { fmtInt } from '../lib/progress';
import { mib, readCpuSeconds, readMachineCpu, readTreeCpuSeconds, RssSampler } from '../lib/rss';
import type { ResultRow } from '../lib/results';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario';
import { writeBenchConfig } from '../lib/tributary';
import { sleep, waitFor } from '../lib/wait';

const RECORDS = 100_000;
const RECORD_BYTES = 1024;
const KEYS = 1_000;
const SOURCE_PARTITIONS = 8;
/** The bus topic's partition count: Tributary's default (`bus.partitions`). */
const BUS_PARTITIONS = 16;
const POLL_MS = 50;

const SERVICE = 'BenchObject';
const HANDLER = 'handle';

/** Monotonic microseconds: the clock V8's CPU profiler stamps samples with on Linux. */
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * One consumer-worker process alone (no invoker): N records of 1 KiB are loaded into an
 * 8-partition topic first, then a subscription (earliest) to a Virtual Object handler is created
 * and the worker turns every record into an invocation command on the bus. Done when the bus holds
 * N commands (each one acknowledged by the broker with acks=all) and the source group has
 * committed to the end of every partition.
 */
export const workerScenario: Scenario = {
  name: 'worker',
  description:
    'consumer-worker alone: 1 KiB records already in an 8-partition topic -> invocation commands acknowledged on the bus',
  run,
};

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const { progress } = ctx;
  const n = Math.round(RECORDS * ctx.scale);
  const suffix = `${Date.now()}-${randomBytes(3).toString('hex')}`;
  const sourceTopic = `bench-worker-${suffix}`;
  const busPrefix = `bench-bus-${suffix}`;
  const busTopic = busTopics(busPrefix).invocations;
  const groups: string[] = [];

  progress.log(`postgres schema, migrations, service ${SERVICE}`);
  const schema = await createTestSchema('bench_worker');
  ctx.defer('drop the postgres schema', () => schema.drop());
  const ds = await schema.migrated();
  await registerService(ds, SERVICE, 'VIRTUAL_OBJECT', { [HANDLER]: 'EXCLUSIVE' });

  const kafka = benchKafka();
  const admin = kafka.admin();
  await admin.connect();
  ctx.defer('disconnect the kafka admin', () => admin.disconnect());
  ctx.defer('delete the topics and the group', () =>
    removeKafkaState(admin, [sourceTopic, ...Object.values(busTopics(busPrefix))], groups),
  );

  await createTopic(admin, sourceTopic, SOURCE_PARTITIONS);
  progress.log(
    `loading ${fmtInt(n)} records of ${RECORD_BYTES} B (${KEYS} keys) into ${sourceTopic} (${SOURCE_PARTITIONS} partitions)`,
  );
  const load = await produceRecords(kafka, sourceTopic, {
    count: n,
    recordBytes: RECORD_BYTES,
    keys: KEYS,
    onProgress: (done) => progress.update(`loaded ${fmtInt(done)} / ${fmtInt(n)}`),
  });
  const loaded = await topicRecordCount(admin, sourceTopic);
  if (loaded !== n) throw new Error(`the source topic holds ${loaded} records, expected ${n}`);
  progress.log(
    `loaded in ${load.seconds.toFixed(1)}s (${fmtInt(load.records / load.seconds)} records/s)`,
  );

  // The worker.
  const configFile = writeBenchConfig({
    dir: ctx.workDir,
    schema: schema.name,
    busPrefix,
    busPartitions: BUS_PARTITIONS,
  });
  const port = await freePort();
  const profileDir = `${ctx.workDir}/cpu-profile`;
  const spawnedAt = performance.now();
  const worker = spawnTributaryApp('consumer-worker', {
    args: ['--config-file', configFile],
    env: {
      TRIBUTARY_WORKER_BIND_ADDRESS: `127.0.0.1:${port}`,
      TRIBUTARY_WORKER_ID: 'bench-worker',
    },
    nodeFlags: ctx.args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    logDir: ctx.workDir,
  });
  let stopped = false;
  ctx.defer('stop the worker', async () => {
    if (!stopped) await worker.stop();
  });
  const rss = new RssSampler(worker.pid);
  ctx.defer('stop sampling RSS', () => rss.stop());
  progress.log(`worker pid ${worker.pid} starting (log: ${worker.logFile})`);
  await waitFor(() => healthy(port), 'the worker to answer /health', {
    timeoutMs: 120_000,
    intervalMs: 50,
    abort: worker.unexpectedExit,
  });
  const startupSeconds = (performance.now() - spawnedAt) / 1000;
  const rssAtReady = rss.current;
  // The worker created the bus topic at start; the admin's metadata may lag behind for a moment.
  const busBefore = await waitFor(
    async () => ({ count: await topicRecordCount(admin, busTopic) }),
    `the bus topic ${busTopic}`,
    { timeoutMs: 30_000, intervalMs: 200 },
  ).then((r) => r.count);
  if (busBefore !== 0) throw new Error(`the bus topic already holds ${busBefore} messages`);
  progress.log(`worker ready in ${startupSeconds.toFixed(2)}s; creating the subscription`);

  // The measured part: from the subscription row being committed to all N commands acknowledged.
  const brokerPid = localBrokerPid();
  const subscriptionId = await insertSubscription(ds, sourceTopic, SERVICE, HANDLER, {
    'auto.offset.reset': 'earliest',
  });
  const tSub = performance.now();
  groups.push(subscriptionId);
  let tFirst: number | undefined;
  let usFirst = 0;
  const cpu = () => ({
    worker: readCpuSeconds(worker.pid),
    broker: brokerPid === undefined ? null : readTreeCpuSeconds(brokerPid),
    machine: readMachineCpu(),
  });
  let cpuFirst = cpu();
  let last = { t: tSub, count: 0 };
  let acked = 0;
  const timeoutMs = Math.max(120_000, n * 3); // at least 333 records/s, or it is broken
  await waitFor(
    async () => {
      acked = await topicRecordCount(admin, busTopic);
      const now = performance.now();
      if (acked > 0 && tFirst === undefined) {
        tFirst = now;
        usFirst = monoUs();
        cpuFirst = cpu();
      }
      if (now - last.t >= 500) {
        const rate = ((acked - last.count) / (now - last.t)) * 1000;
        last = { t: now, count: acked };
        progress.update(
          `${fmtInt(acked)} / ${fmtInt(n)} commands acknowledged  ${fmtInt(rate)}/s  worker RSS ${mib(rss.current)} MiB`,
        );
      }
      return acked >= n;
    },
    `${n} commands on ${busTopic} (worker log: ${worker.logFile})`,
    { timeoutMs, intervalMs: POLL_MS, abort: worker.unexpectedExit },
  );
  const tAcked = performance.now();
  const usAcked = monoUs();
  const cpuAcked = cpu();
  await waitFor(
    async () => (await groupLag(admin, subscriptionId, sourceTopic)).lag === 0,
    `group ${subscriptionId} to commit to the end of ${sourceTopic}`,
    { timeoutMs: 60_000, intervalMs: POLL_MS, abort: worker.unexpectedExit },
  );
  const tCommitted = performance.now();
  // Nothing more should arrive: one worker, no rebalance, so no record is converted twice.
  await sleep(500);
  const commands = await topicRecordCount(admin, busTopic);
  progress.log(`all ${fmtInt(n)} commands acknowledged and source offsets committed`);

  const memory = rss.stop();
  stopped = true;
  const exit = await worker.stop();
  const profile = ctx.args.profile ? summariseWorkerProfile(profileDir, usFirst, usAcked) : null;
  if (profile) progress.log(formatProfile(profile));

  const t0 = tFirst ?? tSub;
  const fromSubscription = (tAcked - tSub) / 1000;
  const steady = (tAcked - t0) / 1000;
  const bytesIn = load.bytes;
  const peakRssMiB = { worker: mib(memory.peakBytes) };
  const row = (window: string, seconds: number): ResultRow => ({
    scenario: 'worker',
    system: 'tributary consumer-worker',
    window,
    records: n,
    recordBytes: RECORD_BYTES,
    seconds: Math.round(seconds * 1000) / 1000,
    recordsPerSec: Math.round(n / seconds),
    mbPerSec: Math.round((bytesIn / seconds / 1e6) * 10) / 10,
    peakRssMiB,
  });
  const cpuShare = (pick: 'worker' | 'broker'): number | null => {
    const a = cpuFirst[pick];
    const b = cpuAcked[pick];
    return a === null || b === null || steady <= 0 ? null : Math.round(((b - a) / steady) * 100);
  };
  const machineBusy = (): number | null => {
    const a = cpuFirst.machine;
    const b = cpuAcked.machine;
    return a === null || b === null || b.total === a.total
      ? null
      : Math.round(((b.busy - a.busy) / (b.total - a.total)) * 100);
  };
  const cpuPerRecordUs =
    cpuFirst.worker === null || cpuAcked.worker === null
      ? null
      : Math.round(((cpuAcked.worker - cpuFirst.worker) / n) * 1e6 * 10) / 10;
  progress.log(
    `steady window ${steady.toFixed(2)}s: worker ${cpuShare('worker') ?? '?'}% of a core ` +
      `(${cpuPerRecordUs ?? '?'} µs CPU per record), broker ${cpuShare('broker') ?? '?'}%, ` +
      `machine ${machineBusy() ?? '?'}% busy; worker RSS ${mib(rssAtReady)} MiB when ready, ` +
      `peak ${mib(memory.peakBytes)} MiB`,
  );
  return {
    rows: [
      row('subscription created -> all acked', fromSubscription),
      row('first command -> all acked', steady),
    ],
    details: {
      records: n,
      recordBytes: RECORD_BYTES,
      keys: KEYS,
      sourcePartitions: SOURCE_PARTITIONS,
      busPartitions: BUS_PARTITIONS,
      handler: `${SERVICE}/${HANDLER} (VIRTUAL_OBJECT, EXCLUSIVE)`,
      load: {
        seconds: round3(load.seconds),
        recordsPerSec: Math.round(load.records / load.seconds),
        bytes: load.bytes,
      },
      workerStartupSeconds: round3(startupSeconds),
      subscriptionToFirstCommandSeconds: round3((t0 - tSub) / 1000),
      firstCommandToAllAckedSeconds: round3(steady),
      allAckedToCommittedSeconds: round3((tCommitted - tAcked) / 1000),
      commandsOnBus: commands,
      duplicateCommands: commands - n,
      /** CPU used over the steady window, in % of one core (the machine has two). */
      cpuPercentOfOneCore: { worker: cpuShare('worker'), broker: cpuShare('broker') },
      /** Worker CPU time per record over the steady window: less sensitive to other load. */
      workerCpuMicrosPerRecord: cpuPerRecordUs,
      /** Every process on the machine over the steady window, in % of all cores. */
      machineCpuBusyPercent: machineBusy(),
      /** RSS once ready, before consuming: Nest, TypeORM, kafkajs and the swc require hook. */
      workerRssAtReadyMiB: mib(rssAtReady),
      workerPeakRssMiB: mib(memory.peakBytes),
      workerRssAtEndMiB: mib(memory.lastBytes),
      workerExit: exit.signal ?? exit.code,
      workerLog: path.relative(ROOT, worker.logFile),
      ...(profile ? { profile } : {}),
    },
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function summariseWorkerProfile(dir: string, fromUs: number, toUs: number) {
  const file = latestProfile(dir);
  if (file === undefined) return null;
  return summariseProfile(file, {
    fromUs,
    toUs,
    top: 30,
    inclusiveOf: [
      {
        label: 'eachBatch handler (convert + produce + commit)',
        functionName: 'handle',
        urlIncludes: 'subscription-runner',
      },
      'toInvocationCommand',
      'invocationIdForRecord',
      'base62',
      'toBusRecord',
      'encodeBusMessage',
      {
        label: 'kafkajs produce encoding (records, batches, CRC32C)',
        urlIncludes: ['requests/produce/', 'recordBatch/v0/index', 'recordBatch/record/v0/index'],
      },
      { label: 'kafkajs CRC32C', urlIncludes: 'recordBatch/crc32C' },
      {
        label: 'kafkajs fetch decoding',
        urlIncludes: ['requests/fetch/', 'recordBatch/v0/decoder', 'recordBatch/record/v0/decoder'],
      },
      {
        label: 'kafkajs socket data handling',
        functionName: 'onData',
        urlIncludes: 'network/connection',
      },
      'toIncomingRecord',
      { label: 'kafkajs commitOffsets', functionName: 'commitOffsets', urlIncludes: 'kafkajs' },
    ],
  });
}
