/**
 * The handler protocol's wire types are defined once, in the SDK (`libs/sdk/src/protocol.ts`),
 * and re-exported here for the invoker and the admin API. What follows is the invoker's own view
 * of an answer, decoded.
 */
export * from '@tributary/sdk/protocol';

// --- Decoded outcome, as HandlerClient.invoke returns it ------------------------------------

export interface StateChanges {
  set: ReadonlyMap<string, Buffer>;
  clear: readonly string[];
  clearAll: boolean;
}

export interface InvokeSuccess {
  kind: 'success';
  output: Buffer;
  contentType?: string;
  state: StateChanges;
}

export interface InvokeFailure {
  kind: 'failure';
  terminal: boolean;
  message: string;
  code: number;
  /** Only on a terminal failure: applied with the completion. Retryable failures carry none. */
  state?: StateChanges;
  /** A retryable failure's own delay before the next attempt (a Restate SDK's `retryAfter`). */
  retryAfterMs?: number;
}

export type InvokeOutcome = InvokeSuccess | InvokeFailure;
