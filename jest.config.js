// Unit tests (*.spec.ts) sit beside the code; integration tests (*.int-spec.ts) use the real
// Kafka broker and Postgres that `npm test` brings up through scripts/infra-up.sh.
const fs = require('fs');
const swcrc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,libs,examples,scripts,test}/**/*.{spec,int-spec}.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
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
