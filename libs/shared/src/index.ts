export * from './app';
export * from './config';
export * from './contracts/topics';
export * from './database';
export * from './health/health.controller';
export * from './ids/ids';
export * from './kafka';
