import { readFileSync } from 'node:fs';
import path from 'node:path';
import { APP_NODE_FLAGS, App } from './node-flags';

// The default node flags of each app are written in four places that cannot import one another:
// this file's constant (npm run dev, npm run bench), package.json's start scripts and the compose
// file. They must agree.
const ROOT = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const APPS = Object.keys(APP_NODE_FLAGS) as App[];

describe('default node flags per app', () => {
  it.each(APPS)('npm run start:%s runs node with them', (app) => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts[`start:${app}`]).toBe(
      ['node', ...APP_NODE_FLAGS[app], `dist/apps/${app}/src/main.js`].join(' '),
    );
  });

  it.each(APPS)('the compose file runs %s with them', (app) => {
    const command = ['node', ...APP_NODE_FLAGS[app], `dist/apps/${app}/src/main.js`]
      .map((part) => `'${part}'`)
      .join(', ');
    expect(read('docker-compose.yml')).toContain(`    command: [${command}]`);
  });
});
