import {
  Context,
  ObjectContext,
  ObjectSharedContext,
  WorkflowContext,
  WorkflowSharedContext,
} from './context.types';
import { Serde } from './serde';
import { HandlerType } from './protocol';

export interface HandlerOpts<I, O> {
  /** Decodes the record payload; `serde.json` by default. */
  input?: Serde<I>;
  /** Encodes the result; `serde.json` by default. */
  output?: Serde<O>;
}

export type HandlerFn<C, I, O> = (ctx: C, input: I) => Promise<O>;

/** Options attached to a handler function by the `handlers.*` helpers. */
export interface HandlerMeta {
  ty?: HandlerType;
  input?: Serde<unknown>;
  output?: Serde<unknown>;
}

const HANDLER_META = Symbol('tributary.handler');

type Marked = { [HANDLER_META]?: HandlerMeta };

export function handlerMeta(fn: unknown): HandlerMeta {
  return (fn as Marked)[HANDLER_META] ?? {};
}

/** Wraps rather than tags `fn`, so one function can be bound twice with different options. */
function define<F>(ty: HandlerType | undefined, optsOrFn: unknown, maybeFn: unknown): F {
  const [opts, fn] =
    typeof optsOrFn === 'function'
      ? [{}, optsOrFn]
      : [(optsOrFn ?? {}) as HandlerOpts<unknown, unknown>, maybeFn];
  if (typeof fn !== 'function') throw new TypeError('a handler must be a function');
  const call = fn as (ctx: unknown, input: unknown) => Promise<unknown>;
  const wrapped: Marked & typeof call = (ctx, input) => call(ctx, input);
  const meta: HandlerMeta = { ty, input: opts.input, output: opts.output };
  Object.defineProperty(wrapped, HANDLER_META, { value: meta });
  return wrapped as F;
}

function handler<O, I = void>(fn: HandlerFn<Context, I, O>): HandlerFn<Context, I, O>;
function handler<O, I = void>(
  opts: HandlerOpts<I, O>,
  fn: HandlerFn<Context, I, O>,
): HandlerFn<Context, I, O>;
function handler(optsOrFn: unknown, fn?: unknown): unknown {
  return define(undefined, optsOrFn, fn);
}

function exclusive<O, I = void>(fn: HandlerFn<ObjectContext, I, O>): HandlerFn<ObjectContext, I, O>;
function exclusive<O, I = void>(
  opts: HandlerOpts<I, O>,
  fn: HandlerFn<ObjectContext, I, O>,
): HandlerFn<ObjectContext, I, O>;
function exclusive(optsOrFn: unknown, fn?: unknown): unknown {
  return define('EXCLUSIVE', optsOrFn, fn);
}

function objectShared<O, I = void>(
  fn: HandlerFn<ObjectSharedContext, I, O>,
): HandlerFn<ObjectSharedContext, I, O>;
function objectShared<O, I = void>(
  opts: HandlerOpts<I, O>,
  fn: HandlerFn<ObjectSharedContext, I, O>,
): HandlerFn<ObjectSharedContext, I, O>;
function objectShared(optsOrFn: unknown, fn?: unknown): unknown {
  return define('SHARED', optsOrFn, fn);
}

function workflowRun<O, I = void>(
  fn: HandlerFn<WorkflowContext, I, O>,
): HandlerFn<WorkflowContext, I, O>;
function workflowRun<O, I = void>(
  opts: HandlerOpts<I, O>,
  fn: HandlerFn<WorkflowContext, I, O>,
): HandlerFn<WorkflowContext, I, O>;
function workflowRun(optsOrFn: unknown, fn?: unknown): unknown {
  return define('WORKFLOW', optsOrFn, fn);
}

function workflowShared<O, I = void>(
  fn: HandlerFn<WorkflowSharedContext, I, O>,
): HandlerFn<WorkflowSharedContext, I, O>;
function workflowShared<O, I = void>(
  opts: HandlerOpts<I, O>,
  fn: HandlerFn<WorkflowSharedContext, I, O>,
): HandlerFn<WorkflowSharedContext, I, O>;
function workflowShared(optsOrFn: unknown, fn?: unknown): unknown {
  return define('SHARED', optsOrFn, fn);
}

/** Handler helpers, shaped like Restate's `handlers` namespace. */
export const handlers = {
  handler,
  object: { exclusive, shared: objectShared },
  workflow: { workflow: workflowRun, shared: workflowShared },
};
