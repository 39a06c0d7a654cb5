/** The same rule the config loader applies: the name appears in `kafka://<cluster>/<topic>`. */
export const KAFKA_CLUSTER_NAME = /^[A-Za-z0-9._-]+$/;

export const KAFKA_CLUSTER_NAME_RULE =
  'must be a non-empty string of letters, digits, ".", "_" or "-" (it appears in kafka://<cluster>/<topic> URIs)';

export function isKafkaClusterName(name: string): boolean {
  return name.length <= 255 && KAFKA_CLUSTER_NAME.test(name);
}
