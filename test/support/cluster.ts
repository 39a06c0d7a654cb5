import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Admin } from 'kafkajs';
import { ROOT } from './processes';

/**
 * The local multi-broker KRaft cluster of scripts/infra-up.sh --brokers N (clients on 127.0.0.1
 * 19092 and up), for the tests that kill its brokers. Only these tests use it; the single broker
 * on 9092 is left alone.
 */
export const CLUSTER_BROKERS = 3;

// Asynchronous on purpose: a test's handler or producer runs in the test process meanwhile.
const run = promisify(execFile);

/** Starts the cluster (or the nodes of it that are down) and returns its bootstrap list. */
export async function clusterUp(): Promise<string[]> {
  const { stdout } = await run('bash', [
    path.join(ROOT, 'scripts/infra-up.sh'),
    '--brokers',
    String(CLUSTER_BROKERS),
  ]);
  const line = /\[infra\] bootstrap: (\S+)/.exec(stdout);
  if (!line)
    throw new Error(
      `infra-up.sh --brokers ${CLUSTER_BROKERS} printed no bootstrap list:\n${stdout}`,
    );
  return line[1].split(',');
}

export async function clusterDown(): Promise<void> {
  await run('bash', [
    path.join(ROOT, 'scripts/infra-down.sh'),
    '--brokers',
    String(CLUSTER_BROKERS),
  ]);
}

/** Where scripts/infra-cluster.sh keeps node i's pid file. */
function nodePidFile(nodeId: number): string {
  const cache =
    process.env.TRIBUTARY_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'tributary');
  const state = process.env.TRIBUTARY_KAFKA_CLUSTER_STATE ?? path.join(cache, 'kafka-cluster');
  return path.join(state, `node-${nodeId}`, 'broker.pid');
}

/** The pid of node `nodeId`'s broker (and controller) process, if it is running. */
export function nodePid(nodeId: number): number | undefined {
  try {
    const pid = Number(readFileSync(nodePidFile(nodeId), 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to the broker (and controller) process of node `nodeId`. */
export function signalNode(nodeId: number, signal: 'SIGKILL' | 'SIGSTOP'): void {
  process.kill(Number(readFileSync(nodePidFile(nodeId), 'utf8').trim()), signal);
}

export async function leaderOf(admin: Admin, topic: string, partition: number): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = meta.topics[0].partitions.find((x) => x.partitionId === partition);
  if (!p) throw new Error(`${topic} has no partition ${partition}`);
  return p.leader;
}
