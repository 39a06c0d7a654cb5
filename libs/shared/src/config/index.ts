export * from './config.defaults';
export * from './config.error';
export * from './config.loader';
export * from './config.sections';
export * from './config.sources';
export * from './config.types';
export * from './duration.parser';
export * from './kafka-clusters.parser';
