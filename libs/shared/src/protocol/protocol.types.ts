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

/**
 * A Restate SDK handler waits for what has not happened yet (a timer, a call's result, an
 * awakeable, a workflow promise). Its journal is stored; it runs again when what it waits for
 * arrives, or at `wakeAt` (epoch ms) for a timer. Not a failure: no attempt is counted.
 */
export interface InvokeSuspended {
  kind: 'suspended';
  wakeAt: number | null;
  /** What it waits for, in words, for the invocation's record. */
  waitingFor: string;
}

/** What a `@tributary/sdk` handler answers: it never suspends. */
export type HandlerOutcome = InvokeSuccess | InvokeFailure;

export type InvokeOutcome = HandlerOutcome | InvokeSuspended;
