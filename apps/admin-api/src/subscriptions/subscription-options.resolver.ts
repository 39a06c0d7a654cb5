import {
  MASKED_VALUE,
  mergeKafkaOptions,
  restoreMaskedSecrets,
  translateKafkaOptions,
} from '@tributary/shared';
import { AdminError } from '../common/admin-error';
import { kafkaValueProblems } from '../kafka-clusters/kafka-value.limits';

export const DEAD_LETTER_TOPIC_OPTION = 'tributary.dead-letter-topic';
export const DEFAULT_CLIENT_ID = 'restate';

/** What a subscription runs with when its options do not say. */
export interface OptionDefaults {
  groupId: string;
  clientId: string;
}

export interface ResolvedOptions {
  /** As given, plus `group.id` and `client.id`: what is stored and what the worker layers. */
  options: Record<string, string>;
  deadLetterTopic: string | null;
  /** Keys of these options that change nothing here; cluster properties' own are left out. */
  warnings: string[];
}

/**
 * Restate's defaults for a new subscription: `group.id` from the cluster properties, else the
 * subscription id (so each subscription reads every record once); `client.id` likewise, else
 * `restate`.
 */
export function defaultsForNew(
  clusterProperties: Readonly<Record<string, string>>,
  subscriptionId: string,
): OptionDefaults {
  return {
    groupId: clusterProperties['group.id'] ?? subscriptionId,
    clientId: clusterProperties['client.id'] ?? DEFAULT_CLIENT_ID,
  };
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function requireStringValues(given: Readonly<Record<string, unknown>>): Record<string, string> {
  const wrong = Object.entries(given).filter(([, value]) => typeof value !== 'string');
  if (wrong.length > 0) {
    const named = wrong.map(([key, value]) => `'${key}' (${jsonType(value)})`).join(', ');
    throw AdminError.badRequest(
      `Invalid subscription options: values must be strings, as all librdkafka values are; fix ${named}, e.g. {"fetch.wait.max.ms": "100"}`,
    );
  }
  return given as Record<string, string>;
}

export function invalidOptions(errors: string[]): AdminError {
  return AdminError.badRequest(`Invalid subscription options: ${errors.join('; ')}`);
}

/**
 * The options of a request as they are to be validated: secrets written back masked (`***`, as
 * responses show them) replaced by the `stored` values they stand for. A masked secret with no stored value is
 * a 400 naming it: storing the mask would silently break the consumer's login.
 */
export function acceptGivenOptions(
  given: Readonly<Record<string, unknown>>,
  stored: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const { values, unknown } = restoreMaskedSecrets(given, stored);
  if (unknown.length > 0) {
    throw invalidOptions(
      unknown.map(
        (key) =>
          `option '${key}' is "${MASKED_VALUE}", the mask responses show instead of a secret, but there is no stored value of '${key}' to keep; send the real value`,
      ),
    );
  }
  return values;
}

/**
 * Validates a subscription's options the way its consumer will run them: layered over the
 * cluster's properties, then translated to kafkajs. Throws a 400 naming every bad key.
 */
export function resolveSubscriptionOptions(
  given: Readonly<Record<string, unknown>>,
  clusterProperties: Readonly<Record<string, string>>,
  defaults: OptionDefaults,
  topic: string,
): ResolvedOptions {
  const problems = kafkaValueProblems(given);
  if (problems.length > 0) throw invalidOptions(problems);
  const options: Record<string, string> = {
    ...requireStringValues(given),
    'group.id': (given['group.id'] as string | undefined) ?? defaults.groupId,
    'client.id': (given['client.id'] as string | undefined) ?? defaults.clientId,
  };
  const merged = translateKafkaOptions(mergeKafkaOptions(clusterProperties, options), {
    scope: 'merged',
  });
  if (merged.errors.length > 0) throw invalidOptions(merged.errors);
  const deadLetterTopic = merged.extensions[DEAD_LETTER_TOPIC_OPTION] ?? null;
  if (deadLetterTopic === topic) {
    throw invalidOptions([
      `option '${DEAD_LETTER_TOPIC_OPTION}' must name a topic other than the source topic '${topic}', or failed records would be read again`,
    ]);
  }
  return {
    options,
    deadLetterTopic,
    warnings: withoutClusterWarnings(merged.warnings, clusterProperties),
  };
}

/** Warnings of already stored options, for responses; never throws. */
export function optionWarnings(
  options: Readonly<Record<string, string>>,
  clusterProperties: Readonly<Record<string, string>>,
): string[] {
  const merged = translateKafkaOptions(mergeKafkaOptions(clusterProperties, options), {
    scope: 'merged',
  });
  return withoutClusterWarnings(merged.warnings, clusterProperties);
}

// The cluster's own warnings were reported when it was created; repeating them on every
// subscription would bury the ones the subscription's options cause.
function withoutClusterWarnings(
  warnings: string[],
  clusterProperties: Readonly<Record<string, string>>,
): string[] {
  const clusterWarnings = new Set(
    translateKafkaOptions(clusterProperties, { scope: 'cluster' }).warnings,
  );
  return warnings.filter((w) => !clusterWarnings.has(w));
}

/** Same keys and values, in any order. */
export function sameOptions(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
