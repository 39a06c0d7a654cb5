import { ObjectContext, Request } from './context.types';
import { Serde, serde as serdes } from './serde';
import { StateTracker } from './state.tracker';
import { TerminalError } from './terminal.error';

/** What a handler may do with state: services have none, shared handlers only read. */
export type StateAccess = 'none' | 'read' | 'write';

/**
 * One class behind every context type. The types already hide what a handler may not call; the
 * runtime checks catch calls through casts or plain JavaScript, as terminal errors since a retry
 * would fail the same way.
 */
export class HandlerContext implements ObjectContext {
  constructor(
    private readonly req: Request,
    readonly key: string,
    private readonly state: StateTracker,
    private readonly access: StateAccess,
    private readonly target: string,
  ) {}

  request(): Request {
    return this.req;
  }

  async get<T>(name: string, serde: Serde<T> = serdes.json as Serde<T>): Promise<T | null> {
    this.require('read', 'get');
    const bytes = this.state.get(name);
    return bytes === undefined ? null : serde.deserialize(bytes);
  }

  async stateKeys(): Promise<string[]> {
    this.require('read', 'stateKeys');
    return this.state.keys();
  }

  set<T>(name: string, value: T, serde: Serde<T> = serdes.json as Serde<T>): void {
    this.require('write', 'set');
    this.state.set(name, serde.serialize(value));
  }

  clear(name: string): void {
    this.require('write', 'clear');
    this.state.clear(name);
  }

  clearAll(): void {
    this.require('write', 'clearAll');
    this.state.clearAll();
  }

  private require(needed: 'read' | 'write', method: string): void {
    if (this.access === 'write' || this.access === needed) return;
    if (this.access === 'none') {
      throw new TerminalError(
        `ctx.${method}() called in service handler '${this.target}': services have no state, use a virtual object or a workflow`,
      );
    }
    throw new TerminalError(
      `ctx.${method}() called in shared handler '${this.target}': state is read-only there, only exclusive handlers and workflow 'run' may change it`,
    );
  }
}
