import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The two indexes on every completed invocation's key hold its digest, not the key: a key is a
 * Kafka record key of any length, and a btree entry must fit a third of a page (2,704 bytes). An
 * invocation whose key is too long for the key-queue index is stored as a failed invocation
 * (completed); with the key itself in these indexes that insert was refused too, and the invoker
 * retried the batch without end. Queries compare the digest, then the key.
 */
export class KeyDigestIndexes1796200000000 implements MigrationInterface {
  name = 'KeyDigestIndexes1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_key_created"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_key_created" ON "invocations" (md5("target_key"), "created_at", "id")`,
    );
    await queryRunner.query(`DROP INDEX "IDX_invocations_workflow_runs"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_workflow_runs" ON "invocations" ("target_service", md5("target_key"), "seq") WHERE "handler_ty" = 'WORKFLOW' AND "status" = 'completed' AND "workflow_run_of" IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_workflow_runs"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_workflow_runs" ON "invocations" ("target_service", "target_key", "seq") WHERE "handler_ty" = 'WORKFLOW' AND "status" = 'completed' AND "workflow_run_of" IS NULL`,
    );
    await queryRunner.query(`DROP INDEX "IDX_invocations_key_created"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_key_created" ON "invocations" ("target_key", "created_at", "id")`,
    );
  }
}
