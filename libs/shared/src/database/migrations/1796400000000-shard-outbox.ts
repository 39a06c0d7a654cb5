import { MigrationInterface, QueryRunner } from 'typeorm';

/** Notifications that cross shards (`database.shards`): the sender's outbox, the receiver's set. */
export class ShardOutbox1796400000000 implements MigrationInterface {
  name = 'ShardOutbox1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "shard_outbox" ("seq" BIGSERIAL NOT NULL, "id" text NOT NULL, "dedup" text NOT NULL, "type" integer NOT NULL, "flags" integer NOT NULL, "body" bytea NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_shard_outbox" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "invocation_deliveries" ("id" text NOT NULL, "dedup" text NOT NULL, CONSTRAINT "PK_invocation_deliveries" PRIMARY KEY ("id", "dedup"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "invocation_deliveries"`);
    await queryRunner.query(`DROP TABLE "shard_outbox"`);
  }
}
