// Client side of Restate's service protocol, for running services written with
// @restatedev/restate-sdk. See README.md in this directory for what is and is not implemented.
export * from './framing';
export * from './messages';
export * from './http-exchange';
export * from './http2-pool';
export * from './discovery';
export * from './invocation';
export * from './restate-invoker';
export * from './stream-choice';
export * from './manifest-mapping';
export * from './journal-view';
export * from './request-identity';
