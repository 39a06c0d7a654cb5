/**
 * The config loader's rule (the name appears in `kafka://<cluster>/<topic>`), without `.` and
 * `..`: HTTP clients resolve those away in `/kafka-clusters/<cluster>`, so no request could
 * reach such a cluster.
 */
export const KAFKA_CLUSTER_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]+$/;

export const KAFKA_CLUSTER_NAME_RULE =
  'must be a non-empty string of letters, digits, ".", "_" or "-", other than "." and ".." (it appears in kafka://<cluster>/<topic> URIs)';

export function isKafkaClusterName(name: string): boolean {
  return name.length <= 255 && KAFKA_CLUSTER_NAME.test(name);
}
