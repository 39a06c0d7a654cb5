import { randomBytes } from 'node:crypto';
import { createKafka } from '../../libs/shared/src/kafka/kafkajs.client';

export const TEST_BROKERS = (process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092').split(',');

/** A topic and group name no other test uses. */
export function uniqueName(label: string): string {
  return `test-${label}-${Date.now()}-${randomBytes(3).toString('hex')}`;
}

export function testKafka(clientId = 'tributary-test') {
  return createKafka({ brokers: TEST_BROKERS, clientId, retry: { retries: 5 } }, 'test');
}

/** Polls `condition` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs}ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
