import { decideRetry, resolveRetryPolicy } from './retry-policy';

const restateDefaults = {
  initialIntervalMs: 500,
  exponentiationFactor: 2,
  maxIntervalMs: 60_000,
  maxAttempts: 70,
  onMaxAttempts: 'pause' as const,
};

describe('retry policy', () => {
  it('backs off exponentially from the initial interval up to the max interval', () => {
    expect(decideRetry(restateDefaults, 1)).toEqual({ kind: 'retry', delayMs: 500 });
    expect(decideRetry(restateDefaults, 2)).toEqual({ kind: 'retry', delayMs: 1000 });
    expect(decideRetry(restateDefaults, 4)).toEqual({ kind: 'retry', delayMs: 4000 });
    expect(decideRetry(restateDefaults, 20)).toEqual({ kind: 'retry', delayMs: 60_000 });
  });

  it('pauses or kills after the last attempt', () => {
    expect(decideRetry(restateDefaults, 69)).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(decideRetry(restateDefaults, 70)).toEqual({ kind: 'pause' });
    expect(decideRetry({ ...restateDefaults, onMaxAttempts: 'kill' }, 70)).toEqual({
      kind: 'kill',
    });
  });

  it('applies overrides in order, later ones winning, ignoring unset fields', () => {
    const policy = resolveRetryPolicy(
      restateDefaults,
      { maxAttempts: 5, initialIntervalMs: 100 },
      null,
      { maxAttempts: 3, maxIntervalMs: undefined },
    );
    expect(policy).toEqual({ ...restateDefaults, maxAttempts: 3, initialIntervalMs: 100 });
  });
});
