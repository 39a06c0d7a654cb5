import { canonicalLibrdkafkaKey } from './librdkafka-keys';

/**
 * Layers option sets the way Restate builds a consumer's configuration: cluster properties
 * first, then subscription options, a later layer winning. A later key also replaces an earlier
 * alias of the same property (`metadata.broker.list` replaces `bootstrap.servers`), as it would
 * in librdkafka, instead of leaving two conflicting spellings behind. Linear in the number of
 * keys: each property remembers the one key that spells it.
 */
export function mergeKafkaOptions(
  ...layers: readonly Readonly<Record<string, string>>[]
): Record<string, string> {
  const merged: Record<string, string> = {};
  const keyOf = new Map<string, string>();
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      const property = canonicalLibrdkafkaKey(key) ?? key;
      const existing = keyOf.get(property);
      if (existing !== undefined) delete merged[existing];
      keyOf.set(property, key);
      merged[key] = value;
    }
  }
  return merged;
}
