import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Record headers are stored as `json`, not `jsonb`: `jsonb` refuses the escape `\u0000` (its
 * strings are Postgres text, which cannot hold U+0000), so a record whose header name or value
 * held a NUL byte could not be stored at all. `json` keeps the text as written, escapes included,
 * and the headers are only ever read whole, never queried into. Also an index of paused
 * invocations, which the invoker counts for its `paused` gauge.
 */
export class HeadersAsJsonPausedIndex1795970000000 implements MigrationInterface {
  name = 'HeadersAsJsonPausedIndex1795970000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "invocation_payloads" ALTER COLUMN "headers" DROP DEFAULT, ALTER COLUMN "headers" TYPE json USING "headers"::json, ALTER COLUMN "headers" SET DEFAULT '{}', ALTER COLUMN "raw_headers" TYPE json USING "raw_headers"::json`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_invocations_paused" ON "invocations" ("bus_partition") WHERE "status" = 'paused'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_invocations_paused"`);
    await queryRunner.query(
      `ALTER TABLE "invocation_payloads" ALTER COLUMN "headers" DROP DEFAULT, ALTER COLUMN "headers" TYPE jsonb USING "headers"::jsonb, ALTER COLUMN "headers" SET DEFAULT '{}', ALTER COLUMN "raw_headers" TYPE jsonb USING "raw_headers"::jsonb`,
    );
  }
}
