import { MigrationInterface, QueryRunner } from 'typeorm';

/** The journal of invocations on Restate SDK deployments (see InvocationJournalEntity). */
export class InvocationJournal1795980000000 implements MigrationInterface {
  name = 'InvocationJournal1795980000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "invocation_journal" ("id" text NOT NULL, "idx" integer NOT NULL, "type" integer NOT NULL, "flags" integer NOT NULL, "body" bytea NOT NULL, CONSTRAINT "PK_invocation_journal" PRIMARY KEY ("id", "idx"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "invocation_journal"`);
  }
}
