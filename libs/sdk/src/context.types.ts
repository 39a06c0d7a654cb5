import { Serde } from './serde';

/** The invocation as the handler receives it. */
export interface Request {
  /** Invocation id (`inv_...`), stable across retries of the same record. */
  readonly id: string;
  /** Tributary metadata (`kafka.offset`, `kafka.topic`, ...) and the record's UTF-8 headers. */
  readonly headers: ReadonlyMap<string, string>;
  /** Record headers whose values are not valid UTF-8. */
  readonly rawHeaders: ReadonlyMap<string, Uint8Array>;
  /** The record payload, unchanged. */
  readonly body: Uint8Array;
  /** 1 on the first try. */
  readonly attemptNumber: number;
}

export interface Context {
  request(): Request;
}

/** Context of a shared object handler: reads state, never changes it. */
export interface ObjectSharedContext extends Context {
  readonly key: string;
  get<T>(name: string, serde?: Serde<T>): Promise<T | null>;
  stateKeys(): Promise<string[]>;
}

/** Context of an exclusive object handler. Changes apply when the invocation completes. */
export interface ObjectContext extends ObjectSharedContext {
  set<T>(name: string, value: T, serde?: Serde<T>): void;
  clear(name: string): void;
  clearAll(): void;
}

/** Context of a workflow's `run` handler. */
export type WorkflowContext = ObjectContext;

/** Context of a workflow's other handlers. */
export type WorkflowSharedContext = ObjectSharedContext;
