import express from 'express';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { requireBearerToken } from '../common/auth';
import { serveConsole } from './console-static';

describe('serveConsole', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(path.join(tmpdir(), 'outside.txt'), 'secret');

  /** As the admin API orders it: the console first, then the token check, then the API. */
  const app = express();
  app.use(serveConsole(dir));
  app.use(requireBearerToken(['tok']));
  app.get('/subscriptions', (_req, res) => void res.json({ subscriptions: [] }));

  it('redirects / to the console', async () => {
    const res = await request(app).get('/').expect(302);
    expect(res.headers.location).toBe('/ui/');
  });

  it('answers the page for /ui and any client route, with no token, never cached', async () => {
    for (const p of ['/ui', '/ui/', '/ui/invocations', '/ui/subscriptions/sub_1/x?y=1']) {
      const res = await request(app).get(p).expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.text).toContain('id="root"');
    }
  });

  it('serves assets with their content type, cached for good; a missing one is a 404', async () => {
    const js = await request(app).get('/ui/assets/index-abc.js').expect(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    const css = await request(app).get('/ui/assets/index-abc.css').expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const missing = await request(app).get('/ui/assets/nope.js').expect(404);
    expect(missing.body.message).toContain('/ui/assets/nope.js');
    await request(app).get('/ui/assets/').expect(404);
  });

  it('never serves a file outside its directory', async () => {
    await request(app).get('/ui/..%2f..%2fetc%2fpasswd').expect(404);
    await request(app)
      .get(`/ui/%2e%2e/${path.basename(tmpdir())}/outside.txt`)
      .expect(404);
    await request(app).get('/ui/%E0%A4%A').expect(404);
  });

  it('leaves the API to the token check, and other methods to the API', async () => {
    await request(app).get('/subscriptions').expect(401);
    await request(app).get('/subscriptions').set('authorization', 'Bearer tok').expect(200);
    await request(app).post('/ui/').expect(401);
  });

  it('says how to build the console when it is not built', async () => {
    const bare = express().use(serveConsole(null));
    const res = await request(bare).get('/ui/').expect(503);
    expect(res.text).toContain('npm run build');
  });
});
