import type { Logger } from '@nestjs/common';
import { invocationFields, LogLine } from '@tributary/shared';
import type { AttemptEnd } from './attempt-outcome';
import type { ClaimedInvocation } from './invocation.store';

/**
 * A line for an attempt that failed: `debug` while it will be retried, `warn` when the
 * invocation ends failed or is paused. It carries the invocation's id, subscription, topic,
 * partition and offset, and its trace id when tracing is on. Nothing for other attempts.
 */
export function logAttempt(
  logger: Logger,
  c: ClaimedInvocation,
  attempt: number,
  end: AttemptEnd,
): void {
  const { result } = end;
  if (end.kind === 'retryable' && result.status !== 'paused') {
    logger.debug(
      new LogLine(
        `attempt ${attempt} of ${c.service}/${c.handler} failed, retrying: ${result.lastFailure ?? ''}`,
        invocationFields(c.id, c.headers),
      ),
    );
  } else if (end.kind === 'terminal' || result.status === 'paused') {
    const what = result.status === 'paused' ? 'paused' : 'failed';
    logger.warn(
      new LogLine(
        `invocation of ${c.service}/${c.handler} ${what} after attempt ${attempt}: ${result.completionFailure ?? result.lastFailure ?? ''}`,
        invocationFields(c.id, c.headers),
      ),
    );
  }
}
