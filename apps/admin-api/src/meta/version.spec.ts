import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TRIBUTARY_VERSION, versionInfo } from './version';

describe('version', () => {
  it('reports the release of package.json', () => {
    const pkg = JSON.parse(
      readFileSync(path.resolve(__dirname, '../../../../package.json'), 'utf8'),
    ) as { version: string };
    expect(TRIBUTARY_VERSION).toBe(pkg.version);
  });

  it('answers in Restate shape, with the admin API versions served under /v2../v4', () => {
    expect(versionInfo()).toMatchObject({
      version: expect.stringMatching(/^1\.\d+\.\d+$/),
      min_admin_api_version: 2,
      max_admin_api_version: 4,
      features: {},
    });
  });
});
