import type { RetryPolicyConfig } from '@tributary/shared';

export type RetryPolicy = RetryPolicyConfig;

/** Overrides from a service or handler manifest or a subscription, applied in that order. */
export type RetryPolicyOverride = Partial<RetryPolicy>;

export function resolveRetryPolicy(
  global: RetryPolicy,
  ...overrides: (RetryPolicyOverride | null | undefined)[]
): RetryPolicy {
  const policy = { ...global };
  for (const o of overrides) {
    if (!o) continue;
    for (const [k, v] of Object.entries(o)) {
      if (v !== undefined && v !== null) (policy as Record<string, unknown>)[k] = v;
    }
  }
  return policy;
}

export type RetryDecision =
  | { kind: 'retry'; delayMs: number }
  | { kind: 'pause' }
  | { kind: 'kill' }
  | { kind: 'dead-letter' };

/**
 * What to do after attempt `attempt` (1-based) failed with a retryable error. Restate's policy:
 * exponential backoff from the initial interval, capped at the max interval; after max-attempts
 * attempts, what `on-max-attempts` says: pause, kill or dead-letter the invocation.
 */
export function decideRetry(policy: RetryPolicy, attempt: number): RetryDecision {
  if (attempt >= policy.maxAttempts) return { kind: policy.onMaxAttempts };
  const delay = policy.initialIntervalMs * Math.pow(policy.exponentiationFactor, attempt - 1);
  return { kind: 'retry', delayMs: Math.min(Math.round(delay), policy.maxIntervalMs) };
}
