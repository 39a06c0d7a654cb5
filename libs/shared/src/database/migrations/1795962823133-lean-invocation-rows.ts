import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Invocation rows are updated twice (claim, finish) and those are not HOT updates, so every index
 * and every byte of the row is written again each time. This moves the payload (input, headers)
 * to an insert-only table and keeps one index for the admin API's listing instead of five.
 */
export class LeanInvocationRows1795962823133 implements MigrationInterface {
  name = 'LeanInvocationRows1795962823133';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_runnable"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_subscription_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_target_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_status_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_leases"`);
    await queryRunner.query(
      `CREATE TABLE "invocation_payloads" ("id" text NOT NULL, "input" bytea, "headers" jsonb NOT NULL DEFAULT '{}', "raw_headers" jsonb, CONSTRAINT "PK_invocation_payloads" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "invocation_payloads" ("id", "input", "headers", "raw_headers")
       SELECT "id", "input", "headers", "raw_headers" FROM "invocations"`,
    );
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "input"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "headers"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "raw_headers"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_created" ON "invocations" ("created_at", "id") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_created"`);
    await queryRunner.query(`ALTER TABLE "invocations" ADD "raw_headers" jsonb`);
    await queryRunner.query(`ALTER TABLE "invocations" ADD "headers" jsonb NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "invocations" ADD "input" bytea`);
    await queryRunner.query(
      `UPDATE "invocations" i SET "input" = p."input", "headers" = p."headers", "raw_headers" = p."raw_headers"
         FROM "invocation_payloads" p WHERE p."id" = i."id"`,
    );
    await queryRunner.query(`DROP TABLE "invocation_payloads"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_leases" ON "invocations" ("lease_expires_at") WHERE (status = 'running'::text)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_status_created" ON "invocations" ("status", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_target_created" ON "invocations" ("target_service", "target_handler", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_subscription_created" ON "invocations" ("subscription_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_runnable" ON "invocations" ("next_retry_at") WHERE (status = ANY (ARRAY['ready'::text, 'scheduled'::text, 'backing-off'::text]))`,
    );
  }
}
