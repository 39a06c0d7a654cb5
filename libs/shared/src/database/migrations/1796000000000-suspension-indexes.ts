import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the sweep of suspended invocations and for a workflow run once per id, and the
 * retry count a journal last grew at.
 */
export class SuspensionIndexes1796000000000 implements MigrationInterface {
  name = 'SuspensionIndexes1796000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "invocations" ADD "journal_retry_base" integer NOT NULL DEFAULT '0'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_workflow_runs" ON "invocations" ("target_service", "target_key", "seq") WHERE "handler_ty" = 'WORKFLOW' AND "status" = 'completed' AND "workflow_run_of" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_suspended" ON "invocations" ("bus_partition", "next_retry_at") WHERE "status" = 'suspended'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_suspended"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_workflow_runs"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "journal_retry_base"`);
  }
}
