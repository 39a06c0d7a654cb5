import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every open invocation row was in two partial indexes of the same predicate family: the key
 * queue `(target_service, target_key, seq) WHERE exclusive AND status <> 'completed'` and
 * `(bus_partition, seq) WHERE status <> 'completed'`. Every row version of an open invocation
 * (its insert, its claim) entered both. One index of the open rows by key now serves both uses:
 * the claim's per-key check and a key's queue read it by key, as before (`exclusive` is checked
 * on the rows found); loading a newly assigned bus partition, and the console's counts of open
 * invocations, read the whole index (the open rows only, bounded by ingestion's backpressure)
 * and filter by partition. One index insertion fewer per insert and per claim.
 */
export class OneOpenIndex1796600000000 implements MigrationInterface {
  name = 'OneOpenIndex1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_open" ON "invocations" ("target_service", "target_key", "seq") WHERE "status" <> 'completed'`,
    );
    await queryRunner.query(`DROP INDEX "IDX_invocations_key_queue"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_open_by_partition"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_open_by_partition" ON "invocations" ("bus_partition", "seq") WHERE "status" <> 'completed'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_key_queue" ON "invocations" ("target_service", "target_key", "seq") WHERE "exclusive" AND "status" <> 'completed'`,
    );
    await queryRunner.query(`DROP INDEX "IDX_invocations_open"`);
  }
}
