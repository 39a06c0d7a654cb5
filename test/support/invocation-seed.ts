import { DataSource } from 'typeorm';

/** What `seedInvocations` made, for queries that should find something. */
export interface SeededInvocations {
  rows: number;
  subscriptions: string[];
  services: string[];
  /** A service and a subscription with one invocation in 1,000: a filter on them is selective. */
  rareService: string;
  rareSubscription: string;
  /** A key of `services[0]` with invocations and state. */
  key: string;
  /** The virtual object with state entries (`stateKeys` keys, two entries each). */
  stateService: string;
  stateKeys: number;
}

const SUBSCRIPTIONS = 20;
const SERVICES = 8;
const KEYS = 50_000;

/** A subscription id of the seed: `sub_1` and 22 digits, the shape the admin API checks. */
const subscriptionId = (n: number) => `sub_1${String(n).padStart(22, '0')}`;

/**
 * Fills the invocations table with `rows` generated invocations in one INSERT ... SELECT
 * generate_series, shaped like a busy system's: spread over 30 days, 20 subscriptions (a tenth
 * invoked without one), 8 services of 3 handlers, 50,000 keys, and a rare service and
 * subscription (one in 1,000); 0.8% open (backing off, paused,
 * ready, suspended), the rest completed, 2% of those failed and half of the failures
 * dead-lettered; the last minute's completions included. Plus `stateKeys` keys with state.
 * Then ANALYZE, as autovacuum would after such a load.
 */
export async function seedInvocations(
  ds: DataSource,
  rows: number,
  stateKeys = 20_000,
): Promise<SeededInvocations> {
  await ds.query(
    `INSERT INTO invocations (id, target_service, target_handler, target_key, service_ty,
       handler_ty, exclusive, status, completion_result, completion_failure, invoked_by,
       subscription_id, kafka_topic, kafka_partition, kafka_offset, dead_letter_topic,
       dead_lettered_at, retry_count, last_failure, last_failure_code, created_at, modified_at,
       running_at, completed_at)
     SELECT 'inv_1' || lpad(i::text, 33, '0'),
            CASE WHEN i % 1000 = 999 THEN 'Audit' ELSE 'Svc' || (i % ${SERVICES}) END, 'h' || (i % 3),
            'key-' || (i % ${KEYS}), 'VIRTUAL_OBJECT', 'EXCLUSIVE', true, st,
            CASE WHEN st = 'completed' THEN CASE WHEN failed THEN 'failure' ELSE 'success' END END,
            CASE WHEN st = 'completed' AND failed THEN 'seeded failure' END,
            CASE WHEN i % 10 = 0 THEN 'ingress' ELSE 'subscription' END,
            CASE WHEN i % 10 = 0 THEN NULL
                 WHEN i % 1000 = 999 THEN 'sub_1' || lpad('${SUBSCRIPTIONS}', 22, '0')
                 ELSE 'sub_1' || lpad((i % ${SUBSCRIPTIONS})::text, 22, '0') END,
            'orders', i % 4, i, CASE WHEN dead THEN 'orders-dlq' END,
            CASE WHEN dead THEN created + interval '2 seconds' END,
            CASE WHEN failed THEN 3 ELSE 0 END,
            CASE WHEN failed THEN 'seeded failure' END, CASE WHEN failed THEN 500 END,
            created, created, created, CASE WHEN st = 'completed' THEN created + interval '1 second' END
       FROM (SELECT i, now() - (($1::int - i) * (interval '30 days' / $1::int)) AS created,
                    CASE i % 500 WHEN 1 THEN 'backing-off' WHEN 2 THEN 'paused'
                                 WHEN 3 THEN 'ready' WHEN 4 THEN 'suspended'
                                 ELSE 'completed' END AS st,
                    i % 50 = 7 AS failed, i % 100 = 7 AS dead
               FROM generate_series(1, $1::int) AS i) AS g`,
    [rows],
  );
  await ds.query(
    `INSERT INTO object_state (service_name, object_key, state_key, value)
     SELECT 'Svc0', 'key-' || k, s, convert_to(k::text, 'UTF8')
       FROM generate_series(1, $1::int) AS k, (VALUES ('count'), ('note')) AS v(s)`,
    [stateKeys],
  );
  await ds.query(`ANALYZE invocations`);
  await ds.query(`ANALYZE invocation_listing`);
  await ds.query(`ANALYZE object_state`);
  return {
    rows,
    subscriptions: Array.from({ length: SUBSCRIPTIONS }, (_, n) => subscriptionId(n)),
    services: Array.from({ length: SERVICES }, (_, n) => `Svc${n}`),
    rareService: 'Audit',
    rareSubscription: subscriptionId(SUBSCRIPTIONS),
    key: 'key-8',
    stateService: 'Svc0',
    stateKeys,
  };
}
