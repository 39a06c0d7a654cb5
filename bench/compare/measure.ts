import { Admin, CompressionTypes, Kafka } from 'kafkajs';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../../test/support/database';
import { KafkajsAdmin } from '../../libs/shared/src/kafka/kafkajs.client';
import { benchProducer, recordKey, recordValue } from '../lib/kafka';
import { readCpuSeconds, readMachineCpu, readTreeCpuSeconds } from '../lib/rss';
import { sleep } from '../lib/wait';
import type { HandlerStats } from './handler-stats';

/**
 * `GET /stats` of a bench handler process. An overloaded handler may answer late or drop the
 * connection: retried for up to `patienceMs` before giving up.
 */
export async function fetchStats(statsUrl: string, patienceMs = 30_000): Promise<HandlerStats> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      const res = await fetch(`${statsUrl}/stats`, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`GET ${statsUrl}/stats answered ${res.status}`);
      return (await res.json()) as HandlerStats;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(
          `GET ${statsUrl}/stats failed for ${patienceMs / 1000}s: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
        );
      }
      await sleep(500);
    }
  }
}

export async function resetStats(statsUrl: string): Promise<void> {
  const res = await fetch(`${statsUrl}/reset`, { method: 'POST' });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`POST ${statsUrl}/reset answered ${res.status}`);
}

/**
 * Creates a topic and waits until every partition has a leader, as the apps create theirs
 * (`KafkajsAdmin.ensureTopics`: kafkajs' own wait gives up on an `UNKNOWN_TOPIC_OR_PARTITION`
 * from a broker that does not know the new topic yet; that one waits on).
 */
export async function ensureTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await new KafkajsAdmin(admin).ensureTopics([{ topic, partitions }]);
}

/**
 * Deletes consumer groups, retrying for a few seconds: right after its last member left, a group
 * may still be settling and the broker refuses to delete it (`removeKafkaState` ignores that).
 */
export async function deleteGroupsPatiently(admin: Admin, groups: string[]): Promise<string[]> {
  let left = groups;
  for (let attempt = 0; attempt < 20 && left.length > 0; attempt++) {
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    left = left.filter((g) => existing.has(g));
    if (left.length === 0) break;
    await admin.deleteGroups(left).catch(() => undefined);
    await sleep(500);
  }
  return left;
}

/** True once the consumer group is `Stable` with at least one member (its partitions assigned). */
export async function groupStable(admin: Admin, groupId: string, members = 1): Promise<boolean> {
  const { groups } = await admin.describeGroups([groupId]);
  return groups[0]?.state === 'Stable' && groups[0].members.length >= members;
}

/** The pid of the Postgres postmaster (parent of our backend), for its CPU use; or undefined. */
export async function postgresPid(url = TEST_DATABASE_URL): Promise<number | undefined> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Inodes of the sockets process `pid` holds open (from /proc/<pid>/fd). */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // exited
  }
  return out;
}

/**
 * The Postgres backends serving the connections of `pids` (their pool connections), as backend
 * pids: the client ports of those processes' TCP sockets to the server's port (/proc/net/tcp and
 * tcp6, matched by socket inode), looked up in `pg_stat_activity`. Their CPU is the Postgres work
 * done for those processes alone, apart from the server's shared processes (WAL writer,
 * checkpointer, ...) and from other users of the same server.
 */
export async function postgresBackendsOf(pids: number[]): Promise<number[]> {
  const serverPort = Number(new URL(TEST_DATABASE_URL).port || 5432);
  const inodes = new Set(pids.flatMap((pid) => [...socketInodes(pid)]));
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      if (remote === serverPort) ports.push(local);
    }
  }
  if (ports.length === 0) return [];
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])',
      [ports],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface CpuSnapshot {
  /** CPU seconds (user + system) by process name; a process tree for `broker` and `postgres`. */
  seconds: Record<string, number | null>;
  machine: { busy: number; total: number } | null;
}

export function cpuSnapshot(
  processes: { name: string; pid: number }[],
  trees: { name: string; pid: number | undefined }[],
): CpuSnapshot {
  const seconds: Record<string, number | null> = {};
  for (const p of processes) seconds[p.name] = readCpuSeconds(p.pid);
  for (const t of trees) seconds[t.name] = t.pid === undefined ? null : readTreeCpuSeconds(t.pid);
  return { seconds, machine: readMachineCpu() };
}

/** CPU used between two snapshots: µs per event by process, and the machine's busy share. */
export function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
  events: number,
  seconds: number,
): {
  microsPerEvent: Record<string, number>;
  percentOfOneCore: Record<string, number>;
  machineBusyPercent: number | null;
} {
  const microsPerEvent: Record<string, number> = {};
  const percentOfOneCore: Record<string, number> = {};
  for (const [name, before] of Object.entries(a.seconds)) {
    const after = b.seconds[name];
    if (before === null || after === null || after === undefined) continue;
    microsPerEvent[name] = Math.round(((after - before) / events) * 1e6 * 10) / 10;
    percentOfOneCore[name] = Math.round(((after - before) / seconds) * 100);
  }
  const machineBusyPercent =
    a.machine && b.machine && b.machine.total > a.machine.total
      ? Math.round(((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * 100)
      : null;
  return { microsPerEvent, percentOfOneCore, machineBusyPercent };
}

/**
 * Produces `count` records at `rate` records/s: a small batch every 10 ms, on an absolute
 * schedule (a late tick sends more, so the average rate holds). acks=1, as the load step.
 */
export async function producePaced(
  kafka: Kafka,
  topic: string,
  opts: { count: number; rate: number; recordBytes: number; keys: number; firstIndex: number },
): Promise<{ records: number; seconds: number }> {
  const producer = benchProducer(kafka);
  await producer.connect();
  const started = performance.now();
  let sent = 0;
  try {
    while (sent < opts.count) {
      const due = Math.min(
        opts.count,
        Math.floor(((performance.now() - started) / 1000) * opts.rate) + 1,
      );
      if (due > sent) {
        const messages = [];
        for (let i = sent; i < due; i++) {
          const n = opts.firstIndex + i;
          const key = recordKey(n, opts.keys);
          messages.push({ key, value: recordValue(n, key, opts.recordBytes) });
        }
        await producer.send({ topic, acks: 1, compression: CompressionTypes.None, messages });
        sent = due;
      }
      await sleep(10);
    }
  } finally {
    await producer.disconnect();
  }
  return { records: sent, seconds: (performance.now() - started) / 1000 };
}

/** Percentages and ratios rounded for the report. */
export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
