/**
 * Internal bus topics, in one place and versioned: a change of message shape gets a new topic.
 * The prefix comes from `bus.topic-prefix` (default `tributary`).
 */
export function busTopics(prefix: string) {
  return {
    /** Invocation commands from consumer workers to invokers, keyed by target key. */
    invocations: `${prefix}.invocations.v1`,
  } as const;
}

export type BusTopics = ReturnType<typeof busTopics>;

/** The consumer group the invokers share the bus topic in. */
export function invokerGroup(topics: BusTopics): string {
  return `${topics.invocations}.invokers`;
}
