export * from './admin-auth.middleware';
export * from './admin-exposure';
export * from './bearer-token.verifier';
