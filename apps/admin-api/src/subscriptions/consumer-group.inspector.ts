// kafkajs behind one small interface, like libs/shared's Kafka layer: describing a group's
// members is only needed here, to tell which worker holds which partition.
import { Injectable } from '@nestjs/common';
import { createKafka } from '@tributary/shared';
import { Admin, AssignerProtocol, KafkaConfig } from 'kafkajs';

export interface PartitionStatus {
  partition: number;
  /** Next offset the group reads; null while it has committed nothing. */
  committedOffset: number | null;
  /** Log end offset (high watermark). */
  endOffset: number;
  lag: number | null;
  /** Worker id of the group member holding the partition, when a Tributary worker holds it. */
  worker: string | null;
}

/** Reads a consumer group's position on one topic from the subscription's own cluster. */
export abstract class ConsumerGroupInspector {
  abstract partitions(
    kafka: KafkaConfig,
    groupId: string,
    topic: string,
  ): Promise<PartitionStatus[]>;
}

const INSPECT_TIMEOUT_MS = 5_000;

/** Workers join with client id `<client.id>@<workerId>`; anything else is not a worker. */
export function workerOfClientId(clientId: string): string | null {
  const at = clientId.lastIndexOf('@');
  return at < 0 || at === clientId.length - 1 ? null : clientId.slice(at + 1);
}

async function holders(admin: Admin, groupId: string, topic: string): Promise<Map<number, string>> {
  const { groups } = await admin.describeGroups([groupId]);
  const held = new Map<number, string>();
  for (const member of groups[0]?.members ?? []) {
    const worker = workerOfClientId(member.clientId);
    if (worker === null || member.memberAssignment.length === 0) continue;
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    for (const partition of decoded?.assignment[topic] ?? []) held.set(partition, worker);
  }
  return held;
}

async function inspect(admin: Admin, groupId: string, topic: string): Promise<PartitionStatus[]> {
  // Asking for a missing topic's offsets fails only after retries, each logged as an error.
  if (!(await admin.listTopics()).includes(topic)) {
    throw new Error(`topic '${topic}' does not exist (yet)`);
  }
  const [ends, committed, held] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
    holders(admin, groupId, topic),
  ]);
  const committedBy = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]) ?? []);
  return ends
    .map(({ partition, high }) => {
      const raw = committedBy.get(partition);
      const committedOffset = raw === undefined || raw === '-1' ? null : Number(raw);
      const endOffset = Number(high);
      return {
        partition,
        committedOffset,
        endOffset,
        lag: committedOffset === null ? null : Math.max(0, endOffset - committedOffset),
        worker: held.get(partition) ?? null,
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

@Injectable()
export class KafkajsConsumerGroupInspector extends ConsumerGroupInspector {
  async partitions(kafka: KafkaConfig, groupId: string, topic: string): Promise<PartitionStatus[]> {
    // A short-lived admin per request: clusters differ per subscription and change at runtime.
    const admin = createKafka(
      {
        ...kafka,
        clientId: 'tributary-admin-api',
        connectionTimeout: kafka.connectionTimeout ?? 3_000,
        retry: { retries: 1, maxRetryTime: 2_000 },
      },
      'subscription status',
    ).admin();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Kafka within ${INSPECT_TIMEOUT_MS}ms`)),
        INSPECT_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([
        admin.connect().then(() => inspect(admin, groupId, topic)),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
      await admin.disconnect().catch(() => undefined);
    }
  }
}
