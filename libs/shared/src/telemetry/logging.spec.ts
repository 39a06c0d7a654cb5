import { Writable } from 'node:stream';
import {
  createAppLogger,
  invocationFields,
  JsonLogger,
  LogLine,
  nestLevels,
  TextLogger,
} from './logging';

/** A logger writing into an array of lines. */
function capture(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: new JsonLogger('invoker', level, stream), lines };
}

describe('JsonLogger: one JSON object per line', () => {
  it('writes a line about an invocation with its id, subscription, topic, partition and offset', () => {
    const { logger, lines } = capture();
    const headers = {
      'restate.subscription.id': 'sub_1',
      'kafka.topic': 'orders',
      'kafka.partition': '3',
      'kafka.offset': '42',
    };
    logger.warn(new LogLine('invocation paused', invocationFields('inv_1', headers)), 'executor');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'warn',
      app: 'invoker',
      context: 'executor',
      msg: 'invocation paused',
      invocationId: 'inv_1',
      subscriptionId: 'sub_1',
      topic: 'orders',
      partition: 3,
      offset: '42',
    });
    expect(typeof line.time).toBe('string');
    expect(line.pid).toBe(process.pid);
    // Tracing is off in this process: no trace id is made up.
    expect(line).not.toHaveProperty('traceId');
  });

  it('writes secrets in fields as ***, at any of the first levels', () => {
    const { logger, lines } = capture();
    logger.log(
      {
        msg: 'cluster options',
        password: 'hunter2',
        options: { 'sasl.password': 'hunter3', 'sasl.username': 'app' },
        admin: { tokens: ['tok-secret'] },
      },
      'kafka',
    );
    const text = lines.join('\n');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('hunter3');
    expect(text).not.toContain('tok-secret');
    expect(JSON.parse(lines[0])).toMatchObject({
      msg: 'cluster options',
      password: '***',
      options: { 'sasl.password': '***', 'sasl.username': 'app' },
      admin: { tokens: '***' },
    });
  });

  it('keeps an error’s stack, and leaves out what is below the level', () => {
    const { logger, lines } = capture('info');
    logger.debug('not written', 'x');
    logger.error('it broke', 'Error: it broke\n    at here', 'executor');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'error',
      msg: 'it broke',
      stack: 'Error: it broke\n    at here',
      context: 'executor',
    });
  });
});

describe('text logs', () => {
  it('appends a LogLine’s fields as key=value', () => {
    expect(new LogLine('paused', { invocationId: 'inv_1', partition: 3 }).toString()).toBe(
      'paused (invocationId=inv_1 partition=3)',
    );
  });

  it('is the text logger unless log.format is json, with the levels up to log.level', () => {
    expect(createAppLogger({ format: 'text', level: 'info' }, 'x')).toBeInstanceOf(TextLogger);
    expect(createAppLogger({ format: 'json', level: 'info' }, 'x')).toBeInstanceOf(JsonLogger);
    expect(nestLevels('warn')).toEqual(['fatal', 'error', 'warn']);
    expect(nestLevels('trace')).toEqual(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']);
  });
});
