/**
 * Prints a migration class for the difference between the entities and a scratch schema that
 * holds every existing migration. Usage: npx tsx scripts/migration-generate.ts <Name>
 * Review the output, save it under libs/shared/src/database/migrations/ and list it in index.ts.
 */
import 'reflect-metadata';
import { createDataSource } from '../libs/shared/src/database/data-source';
import { runMigrationsLocked } from '../libs/shared/src/database/migrate';

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'Migration';
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tributary';
  const schema = `gen_${process.pid}`;
  const admin = createDataSource({ url });
  await admin.initialize();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const ds = createDataSource({ url, schema });
    await ds.initialize();
    await runMigrationsLocked(ds);
    const log = await ds.driver.createSchemaBuilder().log();
    await ds.destroy();
    const strip = (q: string): string => q.split(`"${schema}".`).join('');
    const up = log.upQueries.map((q) => `    await queryRunner.query(\`${strip(q.query)}\`);`);
    const down = log.downQueries
      .reverse()
      .map((q) => `    await queryRunner.query(\`${strip(q.query)}\`);`);
    const ts = Date.now();
    process.stdout.write(
      `import { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
        `export class ${name}${ts} implements MigrationInterface {\n` +
        `  name = '${name}${ts}';\n\n` +
        `  public async up(queryRunner: QueryRunner): Promise<void> {\n${up.join('\n')}\n  }\n\n` +
        `  public async down(queryRunner: QueryRunner): Promise<void> {\n${down.join('\n')}\n  }\n}\n`,
    );
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
