import { busTopics, invokerGroup } from '@tributary/shared';

/** What a topic is used for, for the message: reading it, or writing failed records to it. */
export type TopicRole = 'source' | 'dead-letter';

const CONSEQUENCE: Readonly<Record<TopicRole, string>> = {
  source: 'subscribing to it would feed',
  'dead-letter': 'dead-lettering into it would write failed records among',
};

/**
 * Topic and consumer group names that belong to Tributary or to Kafka itself, which the admin
 * API refuses in subscriptions (and group ids in cluster properties):
 *
 * - topics: the bus topics (`<bus.topic-prefix>.invocations.v1`), anything else under
 *   `<bus.topic-prefix>.` (room for the bus topics of later versions), and Kafka's internal
 *   topics (`__consumer_offsets`, `__transaction_state`, any name starting with `__`);
 * - consumer groups: the invokers' group (`<bus topic>.invokers`) and any group starting with
 *   `<bus.topic-prefix>.invocations`.
 *
 * A subscription reading the bus would turn invocation commands into invocations of themselves;
 * one in the invokers' group would take bus partitions away from the invokers, and the
 * invocations of every other subscription on those partitions would stop.
 */
export class ReservedNames {
  private readonly busTopics: ReadonlySet<string>;
  private readonly invokerGroup: string;
  private readonly topicNamespace: string;
  private readonly groupNamespace: string;
  private readonly setting: string;

  constructor(topicPrefix: string) {
    const topics = busTopics(topicPrefix);
    this.busTopics = new Set(Object.values(topics));
    this.invokerGroup = invokerGroup(topics);
    this.topicNamespace = `${topicPrefix}.`;
    this.groupNamespace = `${topicPrefix}.invocations`;
    this.setting = `bus.topic-prefix = ${JSON.stringify(topicPrefix)}`;
  }

  /** Why `topic` cannot be a subscription's source (or dead-letter) topic, or undefined. */
  topicProblem(topic: string, role: TopicRole): string | undefined {
    const consequence = CONSEQUENCE[role];
    if (this.busTopics.has(topic)) {
      return `topic '${topic}' is Tributary's own invocation bus (${this.setting}); ${consequence} invocation commands, and invocations would feed back into themselves`;
    }
    if (topic.startsWith(this.topicNamespace)) {
      return `topic '${topic}' is under '${this.topicNamespace}', the prefix of Tributary's own bus topics (${this.setting}); ${consequence} Tributary's internal messages, so names under it are reserved: choose a topic outside it`;
    }
    if (topic.startsWith('__')) {
      return `topic '${topic}' is internal to Kafka (names starting with '__', such as __consumer_offsets and __transaction_state, hold the brokers' own records); ${consequence} the brokers' bookkeeping`;
    }
    return undefined;
  }

  /** Why a subscription's consumers cannot join group `groupId`, or undefined. */
  groupProblem(groupId: string): string | undefined {
    if (groupId === this.invokerGroup) {
      return `group.id '${groupId}' is the consumer group of Tributary's invokers (${this.setting}); a subscription joining it would take bus partitions away from the invokers, and the invocations of every subscription on those partitions would stop`;
    }
    if (groupId.startsWith(this.groupNamespace)) {
      return `group.id '${groupId}' starts with '${this.groupNamespace}', reserved for Tributary's internal consumer groups (${this.setting}); choose another group.id`;
    }
    return undefined;
  }
}
