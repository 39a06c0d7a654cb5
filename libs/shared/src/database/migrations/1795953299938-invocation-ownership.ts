import { MigrationInterface, QueryRunner } from 'typeorm';

export class InvocationOwnership1795953299938 implements MigrationInterface {
  name = 'InvocationOwnership1795953299938';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "invocations" ADD "bus_partition" integer`);
    await queryRunner.query(`ALTER TABLE "invocations" ADD "dead_letter_topic" text`);
    await queryRunner.query(
      `ALTER TABLE "invocations" ADD "dead_lettered_at" TIMESTAMP WITH TIME ZONE`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_dead_letters" ON "invocations" ("bus_partition") WHERE "dead_letter_topic" IS NOT NULL AND "dead_lettered_at" IS NULL AND "completion_result" = 'failure'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_open_by_partition" ON "invocations" ("bus_partition", "seq") WHERE "status" <> 'completed'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_open_by_partition"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_dead_letters"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "dead_lettered_at"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "dead_letter_topic"`);
    await queryRunner.query(`ALTER TABLE "invocations" DROP COLUMN "bus_partition"`);
  }
}
