import { Logger } from '@nestjs/common';
import { QueryErrorLogger } from './query-error.logger';

describe('QueryErrorLogger', () => {
  it('logs the error and the start of the statement, never a parameter', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => {
      lines.push(String(m));
    });
    try {
      new QueryErrorLogger().logQueryError(
        new Error('invalid byte sequence for encoding "UTF8": 0x00'),
        `INSERT INTO invocations (id, input)\n   VALUES ($1, $2)`,
        ['inv_1', 'secret-payload-bytes'],
      );
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([
      'query failed: invalid byte sequence for encoding "UTF8": 0x00: INSERT INTO invocations (id, input) VALUES ($1, $2) (2 parameters, not shown)',
    ]);
  });

  it('cuts a long statement', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => {
      lines.push(String(m));
    });
    try {
      new QueryErrorLogger().logQueryError('boom', `SELECT ${'x, '.repeat(200)}1`);
    } finally {
      spy.mockRestore();
    }
    expect(lines[0].length).toBeLessThan(220);
    expect(lines[0]).toMatch(/^query failed: boom: SELECT x, x, .*\.\.\.$/);
  });
});
