import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ordering rule's check in Postgres (`mayRunSql`) asks two things of a key: is an older
 * invocation open, and is another one running under a live lease. Asked as one `NOT EXISTS`
 * with an `OR`, the key index could only answer by reading the key's whole open queue. Asked
 * apart, the first is a `seq` range on `IDX_invocations_open` and the second this index of the
 * running exclusive rows by key: at most one row per key unless a lease ran out.
 */
export class RunningByKey1796700000000 implements MigrationInterface {
  name = 'RunningByKey1796700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_running" ON "invocations" ("target_service", "target_key") WHERE "exclusive" AND "status" = 'running'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_running"`);
  }
}
