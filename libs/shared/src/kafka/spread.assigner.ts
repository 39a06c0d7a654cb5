import { createHash } from 'node:crypto';
import { AssignerProtocol, PartitionAssigner } from 'kafkajs';

/**
 * Round robin over members sorted by member id, starting at a member chosen by the group id.
 * Member ids begin with the client id, which carries the worker id, so members sort by worker;
 * starting at a group-dependent offset spreads many small subscriptions (one partition each)
 * across workers instead of giving them all to the first one, as plain round robin would.
 */
export const SpreadAssigner: PartitionAssigner = ({ cluster, groupId }) => ({
  name: 'TributarySpread',
  version: 1,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const start = createHash('sha1').update(groupId).digest().readUInt32BE(0) % memberIds.length;
    const partitions = topics.flatMap((topic) =>
      cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => ({ topic, partition: p.partitionId }))
        .sort((a, b) => a.partition - b.partition),
    );
    const plan = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
    partitions.forEach(({ topic, partition }, i) => {
      const member = plan.get(memberIds[(start + i) % memberIds.length])!;
      (member[topic] ??= []).push(partition);
    });
    return memberIds.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: plan.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'TributarySpread',
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
