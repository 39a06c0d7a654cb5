const TERMINAL = Symbol.for('tributary.TerminalError');

/** Thrown by a handler to fail its invocation for good: the invoker does not retry it. */
export class TerminalError extends Error {
  readonly code: number;
  readonly [TERMINAL] = true;

  constructor(message: string, options?: { errorCode?: number; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'TerminalError';
    this.code = options?.errorCode ?? 500;
  }
}

/** Also recognises a TerminalError from a second copy of the SDK (e.g. built dist next to src). */
export function isTerminalError(err: unknown): err is TerminalError {
  return (
    err instanceof TerminalError || (typeof err === 'object' && err !== null && TERMINAL in err)
  );
}
