import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795951862831 implements MigrationInterface {
  name = 'Initial1795951862831';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "handlers" ("service_name" text NOT NULL, "name" text NOT NULL, "ty" text, "input_content_type" text, "output_content_type" text, CONSTRAINT "PK_handlers" PRIMARY KEY ("service_name", "name"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "services" ("name" text NOT NULL, "ty" text NOT NULL, "deployment_id" text NOT NULL, "revision" integer NOT NULL DEFAULT '1', "public" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_services" PRIMARY KEY ("name"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_services_deployment" ON "services" ("deployment_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "deployments" ("id" text NOT NULL, "uri" text NOT NULL, "additional_headers" jsonb NOT NULL DEFAULT '{}', "min_protocol_version" integer NOT NULL, "max_protocol_version" integer NOT NULL, "manifest" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_deployments" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_deployments_uri" ON "deployments" ("uri") `);
    await queryRunner.query(
      `CREATE TABLE "invocations" ("id" text NOT NULL, "seq" BIGSERIAL NOT NULL, "target_service" text NOT NULL, "target_handler" text NOT NULL, "target_key" text NOT NULL DEFAULT '', "service_ty" text NOT NULL, "handler_ty" text, "exclusive" boolean NOT NULL, "status" text NOT NULL, "completion_result" text, "completion_failure" text, "input" bytea, "headers" jsonb NOT NULL DEFAULT '{}', "raw_headers" jsonb, "invoked_by" text NOT NULL, "subscription_id" text, "kafka_topic" text, "kafka_partition" integer, "kafka_offset" bigint, "kafka_timestamp" bigint, "kafka_key" bytea, "restarted_from" text, "retry_policy" jsonb, "retry_count" integer NOT NULL DEFAULT '0', "next_retry_at" TIMESTAMP WITH TIME ZONE, "last_failure" text, "last_failure_code" integer, "output" bytea, "output_content_type" text, "lease_owner" text, "lease_expires_at" TIMESTAMP WITH TIME ZONE, "epoch" integer NOT NULL DEFAULT '0', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "modified_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "inboxed_at" TIMESTAMP WITH TIME ZONE, "scheduled_at" TIMESTAMP WITH TIME ZONE, "running_at" TIMESTAMP WITH TIME ZONE, "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_invocations" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_retention" ON "invocations" ("completed_at") WHERE "status" = 'completed'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_subscription_created" ON "invocations" ("subscription_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_target_created" ON "invocations" ("target_service", "target_handler", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_status_created" ON "invocations" ("status", "created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_leases" ON "invocations" ("lease_expires_at") WHERE "status" = 'running'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_runnable" ON "invocations" ("next_retry_at") WHERE "status" IN ('ready', 'scheduled', 'backing-off')`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_key_queue" ON "invocations" ("target_service", "target_key", "seq") WHERE "exclusive" AND "status" <> 'completed'`,
    );
    await queryRunner.query(
      `CREATE TABLE "kafka_clusters" ("name" text NOT NULL, "properties" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_kafka_clusters" PRIMARY KEY ("name"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "object_state" ("service_name" text NOT NULL, "object_key" text NOT NULL, "state_key" text NOT NULL, "value" bytea NOT NULL, CONSTRAINT "PK_object_state" PRIMARY KEY ("service_name", "object_key", "state_key"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "subscriptions" ("id" text NOT NULL, "source" text NOT NULL, "sink" text NOT NULL, "cluster" text NOT NULL, "topic" text NOT NULL, "service_name" text NOT NULL, "handler_name" text NOT NULL, "options" jsonb NOT NULL, "status" text NOT NULL DEFAULT 'active', "dead_letter_topic" text, "generation" integer NOT NULL DEFAULT '1', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_subscriptions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_subscriptions_cluster" ON "subscriptions" ("cluster") `,
    );
    await queryRunner.query(`CREATE INDEX "IDX_subscriptions_sink" ON "subscriptions" ("sink") `);
    await queryRunner.query(
      `CREATE INDEX "IDX_subscriptions_source" ON "subscriptions" ("source") `,
    );
    await queryRunner.query(
      `ALTER TABLE "handlers" ADD CONSTRAINT "FK_handlers_service" FOREIGN KEY ("service_name") REFERENCES "services"("name") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "services" ADD CONSTRAINT "FK_services_deployment" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "services" DROP CONSTRAINT "FK_services_deployment"`);
    await queryRunner.query(`ALTER TABLE "handlers" DROP CONSTRAINT "FK_handlers_service"`);
    await queryRunner.query(`DROP INDEX "IDX_subscriptions_source"`);
    await queryRunner.query(`DROP INDEX "IDX_subscriptions_sink"`);
    await queryRunner.query(`DROP INDEX "IDX_subscriptions_cluster"`);
    await queryRunner.query(`DROP TABLE "subscriptions"`);
    await queryRunner.query(`DROP TABLE "object_state"`);
    await queryRunner.query(`DROP TABLE "kafka_clusters"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_key_queue"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_runnable"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_leases"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_status_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_target_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_subscription_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_retention"`);
    await queryRunner.query(`DROP TABLE "invocations"`);
    await queryRunner.query(`DROP INDEX "UQ_deployments_uri"`);
    await queryRunner.query(`DROP TABLE "deployments"`);
    await queryRunner.query(`DROP INDEX "IDX_services_deployment"`);
    await queryRunner.query(`DROP TABLE "services"`);
    await queryRunner.query(`DROP TABLE "handlers"`);
  }
}
