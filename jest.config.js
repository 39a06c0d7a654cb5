// Unit tests (*.spec.ts) sit beside the code; integration tests (*.int-spec.ts) use the real
// Kafka broker and Postgres that `npm test` brings up through scripts/infra-up.sh. The scale-out
// suite (test/scale) runs only through `npm run test:scale`, which sets TRIBUTARY_SCALE_SUITE: it
// starts its own 3-broker cluster and runs for minutes.
const fs = require('fs');
const swcrc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,libs,examples,scripts,test}/**/*.{spec,int-spec}.ts'],
  testPathIgnorePatterns: [
    '/node_modules/',
    '/dist/',
    ...(process.env.TRIBUTARY_SCALE_SUITE ? [] : ['<rootDir>/test/scale/']),
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
