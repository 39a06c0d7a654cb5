import { Context, ObjectContext, WorkflowContext } from './context.types';
import { HandlerMeta, handlerMeta } from './handler.definitions';
import { StateAccess } from './handler.context';
import { Serde, serde } from './serde';
import { HandlerType, ServiceType } from './protocol';

// `any` input, as in Restate: each handler's own parameter annotation gives the real type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyInput = any;
export type ServiceHandlers = Record<string, (ctx: Context, input?: AnyInput) => Promise<unknown>>;
export type ObjectHandlers = Record<
  string,
  (ctx: ObjectContext, input?: AnyInput) => Promise<unknown>
>;
export type WorkflowHandlers = Record<
  string,
  (ctx: WorkflowContext, input?: AnyInput) => Promise<unknown>
>;

export interface ServiceDefinition<P extends string = string, H = unknown> {
  readonly name: P;
  readonly type: ServiceType;
  readonly handlers: H;
}

/** A handler ready to run: its kind and serdes settled. */
export interface HandlerSpec {
  service: string;
  name: string;
  serviceType: ServiceType;
  ty?: HandlerType;
  access: StateAccess;
  input: Serde<unknown>;
  output: Serde<unknown>;
  fn: (ctx: unknown, input: unknown) => Promise<unknown>;
}

export function service<P extends string, H extends ServiceHandlers>(def: {
  name: P;
  handlers: H;
}): ServiceDefinition<P, H> {
  return define('SERVICE', def);
}

export function object<P extends string, H extends ObjectHandlers>(def: {
  name: P;
  handlers: H;
}): ServiceDefinition<P, H> {
  return define('VIRTUAL_OBJECT', def);
}

export function workflow<P extends string, H extends WorkflowHandlers>(def: {
  name: P;
  handlers: H;
}): ServiceDefinition<P, H> {
  return define('WORKFLOW', def);
}

function define<P extends string, H>(
  type: ServiceType,
  def: { name: P; handlers: H },
): ServiceDefinition<P, H> {
  const definition = { name: def.name, type, handlers: def.handlers };
  resolveHandlers(definition); // fail at definition time, not at the first invocation
  return definition;
}

/** Validates a definition and settles each handler's kind, state access and serdes. */
export function resolveHandlers(def: ServiceDefinition): HandlerSpec[] {
  if (typeof def.name !== 'string' || def.name.length === 0) {
    throw new TypeError('a service needs a non-empty name');
  }
  const entries = Object.entries((def.handlers ?? {}) as Record<string, unknown>);
  const specs = entries.map(([name, fn]) => resolveHandler(def, name, fn));
  if (def.type === 'WORKFLOW' && !specs.some((s) => s.ty === 'WORKFLOW')) {
    throw new TypeError(`workflow '${def.name}' needs a 'run' handler`);
  }
  return specs;
}

function resolveHandler(def: ServiceDefinition, name: string, fn: unknown): HandlerSpec {
  const target = `${def.name}/${name}`;
  if (typeof fn !== 'function') throw new TypeError(`handler '${target}' is not a function`);
  const meta = handlerMeta(fn);
  const ty = handlerType(def.type, name, meta, target);
  return {
    service: def.name,
    name,
    serviceType: def.type,
    ...(ty ? { ty } : {}),
    access: ty === undefined ? 'none' : ty === 'SHARED' ? 'read' : 'write',
    input: meta.input ?? serde.json,
    output: meta.output ?? serde.json,
    fn: fn as HandlerSpec['fn'],
  };
}

function handlerType(
  type: ServiceType,
  name: string,
  meta: HandlerMeta,
  target: string,
): HandlerType | undefined {
  const wrong = (why: string) => new TypeError(`handler '${target}' is marked ${meta.ty}: ${why}`);
  switch (type) {
    case 'SERVICE':
      if (meta.ty) throw wrong('services take handlers.handler() or plain functions');
      return undefined;
    case 'VIRTUAL_OBJECT':
      if (meta.ty === 'WORKFLOW') throw wrong('objects take exclusive or shared handlers');
      return meta.ty ?? 'EXCLUSIVE';
    case 'WORKFLOW': {
      const ty = meta.ty ?? (name === 'run' ? 'WORKFLOW' : 'SHARED');
      if (ty === 'EXCLUSIVE') throw wrong('workflows take a run handler and shared handlers');
      if ((ty === 'WORKFLOW') !== (name === 'run')) {
        throw new TypeError(
          `workflow handler '${target}': only 'run' is the workflow handler, the others are shared`,
        );
      }
      return ty;
    }
  }
}
