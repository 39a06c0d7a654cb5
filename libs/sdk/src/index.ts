export const VERSION = '0.1.0';

export { serde } from './serde';
export type { Serde } from './serde';
export { TerminalError } from './terminal.error';
export type {
  Context,
  ObjectContext,
  ObjectSharedContext,
  Request,
  WorkflowContext,
  WorkflowSharedContext,
} from './context.types';
export { handlers } from './handler.definitions';
export type { HandlerFn, HandlerOpts } from './handler.definitions';
export { object, service, workflow } from './service.definitions';
export type {
  ObjectHandlers,
  ServiceDefinition,
  ServiceHandlers,
  WorkflowHandlers,
} from './service.definitions';
export { EndpointBuilder, endpoint, serve } from './endpoint.server';
export type { RunningEndpoint, ServeOptions } from './endpoint.server';
export {
  DEFAULT_MAX_NONCES,
  DEFAULT_MAX_REQUEST_BYTES,
  createRequestHandler,
} from './request.handler';
export type { RequestHandlerOptions, RequestListener } from './request.handler';
