export * from './protocol.types';
export * from './protocol.signature';
export * from './manifest.parser';
export * from './invocation-response.parser';
export * from './invocation-request.encoder';
export * from './handler.client';
