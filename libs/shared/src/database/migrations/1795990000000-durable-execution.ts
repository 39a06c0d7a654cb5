import { MigrationInterface, QueryRunner } from 'typeorm';

/** Suspension, calls, awakeables and workflow promises of Restate SDK invocations. */
export class DurableExecution1795990000000 implements MigrationInterface {
  name = 'DurableExecution1795990000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "invocation_inbox" ("id" text NOT NULL, "dedup" text NOT NULL, "type" integer NOT NULL, "flags" integer NOT NULL, "body" bytea NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_invocation_inbox" PRIMARY KEY ("id", "dedup"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "workflow_promises" ("service_name" text NOT NULL, "workflow_key" text NOT NULL, "name" text NOT NULL, "value" bytea, "failure_code" integer, "failure_message" text, "completed_by" text NOT NULL, "completed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_workflow_promises" PRIMARY KEY ("service_name", "workflow_key", "name"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "workflow_promise_waiters" ("service_name" text NOT NULL, "workflow_key" text NOT NULL, "name" text NOT NULL, "invocation_id" text NOT NULL, "completion_id" integer NOT NULL, "kind" integer NOT NULL, CONSTRAINT "PK_workflow_promise_waiters" PRIMARY KEY ("service_name", "workflow_key", "name", "invocation_id", "completion_id"))`,
    );
    await queryRunner.query(`ALTER TABLE "invocations" ADD "caller_id" text`);
    await queryRunner.query(`ALTER TABLE "invocations" ADD "caller_completion_id" integer`);
    await queryRunner.query(`ALTER TABLE "invocations" ADD "workflow_run_of" text`);
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_suspended" ON "invocations" ("bus_partition", "next_retry_at") WHERE "status" = 'suspended'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_suspended"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "workflow_run_of"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "caller_completion_id"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "caller_id"`);
    await queryRunner.query(`DROP TABLE "workflow_promise_waiters"`);
    await queryRunner.query(`DROP TABLE "workflow_promises"`);
    await queryRunner.query(`DROP TABLE "invocation_inbox"`);
  }
}
