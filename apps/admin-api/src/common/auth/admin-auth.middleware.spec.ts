import express from 'express';
import request from 'supertest';
import { stripApiVersion } from '../admin-http.setup';
import { requireBearerToken } from './admin-auth.middleware';

describe('requireBearerToken', () => {
  const app = express();
  app.use(stripApiVersion);
  app.use(requireBearerToken(['tok-1', 'tok-2']));
  app.use(express.json());
  app.all('/{*rest}', (req, res) => {
    res.json({ path: req.path, body: req.body as unknown });
  });

  it('refuses a request without a token: 401, Restate body, Bearer challenge', async () => {
    const res = await request(app).get('/subscriptions').expect(401);
    expect(res.body).toEqual({
      message: expect.stringContaining('Authorization: Bearer <token>'),
      restate_code: null,
    });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tributary-admin"');
  });

  it('refuses a wrong token and another scheme, saying which', async () => {
    const wrong = await request(app)
      .get('/v4/deployments')
      .set('Authorization', 'Bearer tok-3')
      .expect(401);
    expect(wrong.body.message).toMatch(/^Invalid bearer token/);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    const basic = await request(app)
      .get('/deployments')
      .set('Authorization', 'Basic dG9rLTE6')
      .expect(401);
    expect(basic.body.message).toMatch(/^Unsupported Authorization header/);
  });

  it('refuses before reading the body', async () => {
    const res = await request(app)
      .post('/subscriptions')
      .set('content-type', 'application/json')
      .send('{not json')
      .expect(401);
    expect(res.body.restate_code).toBeNull();
  });

  it('lets a request with any configured token through, under every API prefix', async () => {
    for (const [path, token] of [
      ['/subscriptions', 'tok-1'],
      ['/v2/kafka-clusters', 'tok-2'],
      ['/version', 'tok-1'],
    ]) {
      await request(app).get(path).set('Authorization', `Bearer ${token}`).expect(200);
    }
  });

  it('leaves GET /health open for probes, and only that', async () => {
    await request(app).get('/health').expect(200);
    await request(app).get('/v4/health').expect(200);
    await request(app).head('/health').expect(200);
    await request(app).post('/health').expect(401);
    await request(app).get('/health/x').expect(401);
    await request(app).get('/version').expect(401);
  });
});
