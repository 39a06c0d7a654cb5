import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `invocation_listing` had a primary key on `id` and an index on (created_at, id): two btree
 * entries per invocation for one purpose. The primary key becomes (created_at, id), which is the
 * newest-first list's order, and the delete trigger finds the entries of deleted invocations by
 * both columns (a deleted invocation row has its `created_at`). One index insertion fewer per
 * invocation, on the path of every record.
 */
export class ListingTimeKey1796500000000 implements MigrationInterface {
  name = 'ListingTimeKey1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "invocation_listing" DROP CONSTRAINT "PK_invocation_listing"`,
    );
    await queryRunner.query(`DROP INDEX "IDX_invocation_listing_created"`);
    await queryRunner.query(
      `ALTER TABLE "invocation_listing" ADD CONSTRAINT "PK_invocation_listing" PRIMARY KEY ("created_at", "id")`,
    );
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION invocation_listing_delete() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        DELETE FROM invocation_listing l USING deleted_invocations d
         WHERE l.created_at = d.created_at AND l.id = d.id;
        RETURN NULL;
      END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION invocation_listing_delete() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        DELETE FROM invocation_listing l USING deleted_invocations d WHERE l.id = d.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `ALTER TABLE "invocation_listing" DROP CONSTRAINT "PK_invocation_listing"`,
    );
    await queryRunner.query(
      `ALTER TABLE "invocation_listing" ADD CONSTRAINT "PK_invocation_listing" PRIMARY KEY ("id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocation_listing_created" ON "invocation_listing" ("created_at", "id") `,
    );
  }
}
