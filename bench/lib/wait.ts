export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `condition` until it returns a truthy value and resolves with it; rejects naming `what`
 * (and the last error the condition threw) after `timeoutMs`, or as soon as `abort` rejects.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  opts: { timeoutMs: number; intervalMs?: number; abort?: Promise<never> },
): Promise<NonNullable<T>> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 100;
  let last: unknown;
  let aborted: unknown;
  let isAborted = false;
  opts.abort?.catch((err: unknown) => {
    aborted = err;
    isAborted = true;
  });
  for (;;) {
    if (isAborted) throw aborted;
    try {
      const value = await condition();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs / 1000}s waiting for ${what}${why}`);
    }
    await sleep(interval);
  }
}
