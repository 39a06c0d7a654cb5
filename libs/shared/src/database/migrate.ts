import { DataSource } from 'typeorm';

// Any constant works; it only has to be the same in every replica.
const MIGRATION_LOCK_ID = 724_311_001;

/**
 * Runs pending migrations while holding a session-level advisory lock, so that several replicas
 * starting at once apply each migration exactly once: the others wait, then find nothing to do.
 * The schema named by `database.schema` is created first if it does not exist.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    // The configured schema (database.schema) is created here rather than required beforehand.
    const schema = (dataSource.options as { schema?: string }).schema;
    if (schema) await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}

/** The SQL that would bring the database in line with the entities; empty when there is no drift. */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}
