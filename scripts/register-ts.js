// Lets `node -r ./scripts/register-ts.js apps/x/src/main.ts` run the TypeScript sources directly
// (tests spawn the apps this way; no build step). It compiles with swc, which, unlike esbuild,
// emits the decorator metadata NestJS and TypeORM rely on, and maps the tsconfig path aliases.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..');
const swcrc = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
const aliases = {
  '@tributary/shared': path.join(root, 'libs/shared/src'),
  '@tributary/sdk': path.join(root, 'libs/sdk/src'),
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  for (const [alias, target] of Object.entries(aliases)) {
    if (request === alias || request.startsWith(alias + '/')) {
      return resolve.call(this, target + request.slice(alias.length), parent, ...rest);
    }
  }
  return resolve.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = swc.transformSync(source, { ...swcrc, swcrc: false, filename });
  module._compile(code, filename);
};
