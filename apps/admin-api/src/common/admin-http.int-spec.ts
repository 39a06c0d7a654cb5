import request from 'supertest';
import { AdminTestApp, startAdminApi } from '../../../../test/support/admin-app';

describe('admin API HTTP basics (real Postgres and Kafka)', () => {
  let t: AdminTestApp;

  beforeAll(async () => {
    t = await startAdminApi('admin-http');
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers /health with the state of Postgres and Kafka, also under /v4', async () => {
    for (const path of ['/health', '/v4/health']) {
      const res = await request(t.http).get(path).expect(200);
      expect(res.body).toEqual({ status: 'ok', checks: { postgres: 'up', kafka: 'up' } });
    }
  });

  it('answers an unknown route with 404 and Restate error body', async () => {
    const res = await request(t.http).get('/no-such-thing').expect(404);
    expect(res.body).toEqual({ message: expect.any(String), restate_code: null });
  });
});
