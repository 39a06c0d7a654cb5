import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the web console's queries need at a million invocations (docs/console.md, "At a million
 * invocations"): the invocation list per subscription, service and key in creation order, a
 * subscription's dead letters, what was dead-lettered lately; and each failed attempt of an
 * invocation, for its timeline.
 */
export class ConsoleIndexes1796100000000 implements MigrationInterface {
  name = 'ConsoleIndexes1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "invocation_attempts" ("id" text NOT NULL, "epoch" integer NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE, "ended_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "code" integer, "failure" text NOT NULL, CONSTRAINT "PK_invocation_attempts" PRIMARY KEY ("id", "epoch"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_subscription_created" ON "invocations" ("subscription_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_service_created" ON "invocations" ("target_service", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_key_created" ON "invocations" ("target_key", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_dead_letter_list" ON "invocations" ("subscription_id", "completed_at", "id") WHERE "dead_letter_topic" IS NOT NULL AND "status" = 'completed' AND "completion_result" = 'failure'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_dead_lettered_at" ON "invocations" ("dead_lettered_at") WHERE "dead_lettered_at" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_dead_lettered_at"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_dead_letter_list"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_key_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_service_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_subscription_created"`);
    await queryRunner.query(`DROP TABLE "invocation_attempts"`);
  }
}
