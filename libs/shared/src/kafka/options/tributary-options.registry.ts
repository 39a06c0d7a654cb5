/**
 * Tributary's own subscription options. They sit beside librdkafka keys in a subscription's
 * `options`, so they carry a `tributary.` prefix librdkafka never uses. Each entry checks a value
 * and returns what is wrong with it, or undefined when it is fine.
 */
const TRIBUTARY_OPTION_CHECKS: Readonly<Record<string, (value: string) => string | undefined>> = {
  /** Topic that receives records whose invocation ends in failure. */
  'tributary.dead-letter-topic': (value) =>
    /^[A-Za-z0-9._-]{1,249}$/.test(value)
      ? undefined
      : `must be a Kafka topic name (letters, digits, '.', '_', '-'; at most 249); got '${value}'`,
  /** Attempts per record before its invocation counts as failed (overrides the retry policy). */
  'tributary.max-attempts': (value) =>
    /^[1-9]\d{0,8}$/.test(value.trim()) ? undefined : `must be a positive integer; got '${value}'`,
  /**
   * What ends an invocation out of attempts (overrides the retry policy): `pause`, `kill`, or
   * `dead-letter`, the default when the subscription has a dead-letter topic.
   */
  'tributary.on-max-attempts': (value) =>
    ['pause', 'kill', 'dead-letter'].includes(value)
      ? undefined
      : `must be "pause", "kill" or "dead-letter"; got '${value}'`,
};

export const TRIBUTARY_OPTION_KEYS: ReadonlySet<string> = new Set(
  Object.keys(TRIBUTARY_OPTION_CHECKS),
);

export const TRIBUTARY_OPTION_PREFIX = 'tributary.';

/** What is wrong with a `tributary.*` option's value, or undefined when it is fine. */
export function checkTributaryOption(key: string, value: string): string | undefined {
  return TRIBUTARY_OPTION_CHECKS[key]?.(value);
}
