// Unit tests (*.spec.ts) sit beside the code; integration tests (*.int-spec.ts) use the real
// Kafka broker and Postgres that `npm test` brings up through scripts/infra-up.sh. The scale-out
// suite (test/scale/scale.int-spec.ts) starts its own 3-broker cluster: `npm test` runs it at its
// small size (600 records per subscription), `npm run test:scale` at 30,000 (SCALE_RECORDS) and,
// since that script sets TRIBUTARY_SCALE_SUITE, with test/scale/bus-failover.int-spec.ts, which
// starts the cluster again and takes a broker through SIGSTOP and SIGKILL. The compose test
// (test/compose) runs only through `npm run test:compose`, which sets TRIBUTARY_COMPOSE_SUITE: it
// needs a Docker engine.
const fs = require('fs');
const swcrc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,libs,examples,scripts,test}/**/*.{spec,int-spec}.ts'],
  testPathIgnorePatterns: [
    '/node_modules/',
    '/dist/',
    ...(process.env.TRIBUTARY_SCALE_SUITE ? [] : ['<rootDir>/test/scale/bus-failover']),
    ...(process.env.TRIBUTARY_COMPOSE_SUITE ? [] : ['<rootDir>/test/compose/']),
  ],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleNameMapper: {
    '^@tributary/shared$': '<rootDir>/libs/shared/src',
    '^@tributary/shared/(.*)$': '<rootDir>/libs/shared/src/$1',
    '^@tributary/sdk$': '<rootDir>/libs/sdk/src',
    '^@tributary/sdk/(.*)$': '<rootDir>/libs/sdk/src/$1',
  },
  testTimeout: 60000,
  slowTestThreshold: 30,
};
