import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { BearerCheck, BearerTokenVerifier } from './bearer-token.verifier';

const REALM = 'Bearer realm="tributary-admin"';

/** Readiness probes carry no credentials; `/health` reveals only up/down. */
function isOpenRoute(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && req.path === '/health';
}

const REFUSALS: Record<Exclude<BearerCheck, 'ok'>, { challenge: string; message: string }> = {
  missing: {
    challenge: REALM,
    message:
      "Authentication required: send 'Authorization: Bearer <token>' with one of the admin API tokens (admin.tokens)",
  },
  malformed: {
    challenge: `${REALM}, error="invalid_request"`,
    message:
      "Unsupported Authorization header: send 'Authorization: Bearer <token>' with one of the admin API tokens (admin.tokens)",
  },
  invalid: {
    challenge: `${REALM}, error="invalid_token"`,
    message: 'Invalid bearer token: it matches none of the admin API tokens (admin.tokens)',
  },
};

/**
 * Express middleware answering 401 with Restate's error body to any request without one of
 * `tokens`, except `GET /health`. Registered before the body parser, so an unauthenticated
 * request is refused before its body is read.
 */
export function requireBearerToken(tokens: readonly string[]): RequestHandler {
  const verifier = new BearerTokenVerifier(tokens);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (isOpenRoute(req)) return next();
    const result = verifier.check(req.headers.authorization);
    if (result === 'ok') return next();
    const { challenge, message } = REFUSALS[result];
    res.status(401).set('WWW-Authenticate', challenge).json({ message, restate_code: null });
  };
}
