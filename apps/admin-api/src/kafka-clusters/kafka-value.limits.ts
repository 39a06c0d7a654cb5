/**
 * Most keys one set of cluster properties or subscription options may have. librdkafka has about
 * 250 properties and no real configuration sets more than a few dozen. The admin API's body guard
 * (meta/json-body.guard.ts) refuses larger objects before anything copies or validates them.
 */
export const MAX_KAFKA_KEYS = 256;

/** Kafka's protocol strings carry an int16 length: a longer client or group id cannot be sent. */
const KAFKA_STRING_MAX_BYTES = 32_767;
const PROTOCOL_STRINGS = ['client.id', 'group.id'];

/**
 * What librdkafka properties (cluster properties or subscription options) hold that neither
 * Postgres nor Kafka can take: a NUL character anywhere, a client or group id too long to send.
 * The option translator checks the rest.
 */
export function kafkaValueProblems(values: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (key.includes('\0')) {
      problems.push(`option ${JSON.stringify(key)} has a NUL character (\\u0000) in its name`);
      continue;
    }
    if (typeof value !== 'string') continue;
    if (value.includes('\0')) {
      problems.push(`option '${key}' has a NUL character (\\u0000) in its value`);
    }
    const bytes = Buffer.byteLength(value);
    if (PROTOCOL_STRINGS.includes(key) && bytes > KAFKA_STRING_MAX_BYTES) {
      problems.push(
        `option '${key}' is ${bytes} bytes long; Kafka takes at most ${KAFKA_STRING_MAX_BYTES}`,
      );
    }
  }
  return problems;
}
