export * from './bootstrap';
export * from './bus.module';
export * from './config.module';
export * from './core.module';
