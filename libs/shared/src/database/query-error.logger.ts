import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

const MAX_QUERY_CHARS = 160;

/**
 * TypeORM's own logger prints a failed query with all its parameters: record payloads, headers,
 * keys, state values, whatever the statement carried, on every retry of a batch. This one logs
 * the error and the start of the statement, never a parameter.
 */
export class QueryErrorLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    const message = error instanceof Error ? error.message : error;
    const statement = query.replace(/\s+/g, ' ').trim();
    const shown =
      statement.length > MAX_QUERY_CHARS ? `${statement.slice(0, MAX_QUERY_CHARS)}...` : statement;
    const params = parameters?.length ? ` (${parameters.length} parameters, not shown)` : '';
    this.logger.error(`query failed: ${message}: ${shown}${params}`);
  }

  logQuerySlow(): void {}

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}
