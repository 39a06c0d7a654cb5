export * from './kafka.types';
export * from './kafkajs.client';
export * from './options';
