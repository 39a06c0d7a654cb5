import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admin API's four list indexes move from `invocations` to `invocation_listing`, a narrow
 * table written once per invocation (see its entity): an invocation's claim and finish no longer
 * enter them, four index insertions fewer per row update. Statement triggers with transition
 * tables keep the listing equal to the invocations' ids: one INSERT ... SELECT per statement, so a
 * batch insert of a thousand invocations adds one statement, not a thousand. The functions keep
 * the search_path they were created with, so they find the listing of their own schema.
 */
export class InvocationListing1796300000000 implements MigrationInterface {
  name = 'InvocationListing1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "invocation_listing" ("id" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "subscription_id" text, "target_service" text NOT NULL, "key_digest" text NOT NULL, CONSTRAINT "PK_invocation_listing" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `INSERT INTO "invocation_listing" (id, created_at, subscription_id, target_service, key_digest)
       SELECT id, created_at, subscription_id, target_service, md5(target_key) FROM "invocations"`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocation_listing_created" ON "invocation_listing" ("created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocation_listing_subscription" ON "invocation_listing" ("subscription_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocation_listing_service" ON "invocation_listing" ("target_service", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocation_listing_key" ON "invocation_listing" ("key_digest", "created_at", "id") `,
    );
    await queryRunner.query(`
      CREATE FUNCTION invocation_listing_insert() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO invocation_listing (id, created_at, subscription_id, target_service, key_digest)
        SELECT n.id, n.created_at, n.subscription_id, n.target_service, md5(n.target_key)
          FROM inserted_invocations n;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION invocation_listing_delete() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        DELETE FROM invocation_listing l USING deleted_invocations d WHERE l.id = d.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION invocation_listing_truncate() RETURNS trigger LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $$
      BEGIN
        TRUNCATE invocation_listing;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER invocation_listing_insert AFTER INSERT ON "invocations"
       REFERENCING NEW TABLE AS inserted_invocations
       FOR EACH STATEMENT EXECUTE FUNCTION invocation_listing_insert()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER invocation_listing_delete AFTER DELETE ON "invocations"
       REFERENCING OLD TABLE AS deleted_invocations
       FOR EACH STATEMENT EXECUTE FUNCTION invocation_listing_delete()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER invocation_listing_truncate AFTER TRUNCATE ON "invocations"
       FOR EACH STATEMENT EXECUTE FUNCTION invocation_listing_truncate()`,
    );
    await queryRunner.query(`DROP INDEX "IDX_invocations_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_subscription_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_service_created"`);
    await queryRunner.query(`DROP INDEX "IDX_invocations_key_created"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_key_created" ON "invocations" (md5("target_key"), "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_service_created" ON "invocations" ("target_service", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_subscription_created" ON "invocations" ("subscription_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_created" ON "invocations" ("created_at", "id") `,
    );
    await queryRunner.query(`DROP TRIGGER invocation_listing_truncate ON "invocations"`);
    await queryRunner.query(`DROP TRIGGER invocation_listing_delete ON "invocations"`);
    await queryRunner.query(`DROP TRIGGER invocation_listing_insert ON "invocations"`);
    await queryRunner.query(`DROP FUNCTION invocation_listing_truncate()`);
    await queryRunner.query(`DROP FUNCTION invocation_listing_delete()`);
    await queryRunner.query(`DROP FUNCTION invocation_listing_insert()`);
    await queryRunner.query(`DROP TABLE "invocation_listing"`);
  }
}
