import { execFile } from 'child_process';
import { resolve } from 'path';
import { promisify } from 'util';

// The repo's ESLint config forbids an app to import another app and a lib to import an app. Each
// snippet is linted through ESLint's Node API and the real config as if it were a file at the given
// path. ESLint loads eslint.config.mjs with a dynamic import, which Jest's module sandbox refuses,
// so the linting runs in a child Node process. Type-aware linting is turned off there: the files do
// not exist for the TypeScript project.
const RULE = '@typescript-eslint/no-restricted-imports';

const LINT_IN_CHILD = `
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});
const results = [];
for (const { filePath, code } of JSON.parse(process.argv[1])) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push(result.messages.map(({ ruleId, severity, message, line }) => ({ ruleId, severity, message, line })));
}
process.stdout.write(JSON.stringify(results));
`;

interface Message {
  ruleId: string | null;
  severity: number;
  message: string;
  line: number;
}

interface Snippet {
  filePath: string;
  code: string;
}

const importing = (specifier: string): string =>
  `import { X } from '${specifier}';\nexport const y = X;\n`;

/** [file, specifier, the app named in the error]: each must fail the lint. */
const acrossApps: [string, string, string][] = [
  [
    'apps/admin-api/src/probe/probe.ts',
    '../../../invoker/src/ingest/command.ingestor',
    'apps/invoker',
  ],
  ['apps/admin-api/src/probe/probe.ts', '../../../invoker/src', 'apps/invoker'],
  [
    'apps/admin-api/src/probe.ts',
    '../../consumer-worker/src/consumer-worker.module',
    'apps/consumer-worker',
  ],
  ['apps/admin-api/src/probe.ts', 'apps/invoker/src/invoker.module', 'apps/invoker'],
  ['apps/admin-api/src/probe.int-spec.ts', '../../invoker/src/invoker.module', 'apps/invoker'],
  ['apps/invoker/src/probe.ts', '../../admin-api/src/app.module', 'apps/admin-api'],
  ['apps/consumer-worker/src/a/b/probe.ts', '../../../../../apps/invoker/src/x', 'apps/invoker'],
];

/** [file, specifier]: a lib importing an app, each must fail the lint. */
const libIntoApp: [string, string][] = [
  ['libs/shared/src/probe/probe.ts', '../../../../apps/invoker/src/x'],
  ['libs/shared/src/probe.ts', '../../../apps/admin-api/src/app.module'],
  ['libs/sdk/src/probe.ts', 'apps/consumer-worker/src/main'],
];

/** [file, specifier]: legal imports, each must lint clean. */
const allowed: [string, string][] = [
  // An app's own files, the libs, and (from its specs) the shared test support.
  ['apps/admin-api/src/probe/probe.ts', '../invocations/invocation-control.sender'],
  ['apps/admin-api/src/probe.ts', '@tributary/shared'],
  ['apps/invoker/src/ingest/probe.ts', '../execution/invocation.executor'],
  ['apps/admin-api/src/probe/probe.int-spec.ts', '../../../../test/support/admin-app'],
  ['libs/shared/src/probe.ts', './kafka/kafka.types'],
  // test/ and bench/ drive the apps and may import any of them.
  ['test/probe.int-spec.ts', '../apps/invoker/src/invoker.module'],
  ['bench/probe.ts', '../apps/consumer-worker/src/consumer-worker.module'],
];

const reExportAndTypeImport: Snippet = {
  filePath: 'apps/admin-api/src/probe.ts',
  code:
    "export { X } from '../../invoker/src/x';\n" +
    "import type { Y } from '../../invoker/src/y';\n" +
    'export type Z = Y;\n',
};

const snippets: Snippet[] = [
  ...acrossApps.map(([filePath, specifier]) => ({ filePath, code: importing(specifier) })),
  ...libIntoApp.map(([filePath, specifier]) => ({ filePath, code: importing(specifier) })),
  ...allowed.map(([filePath, specifier]) => ({ filePath, code: importing(specifier) })),
  reExportAndTypeImport,
];

describe('module boundaries lint', () => {
  const results = new Map<Snippet, Message[]>();

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', LINT_IN_CHILD, JSON.stringify(snippets)],
      { cwd: resolve(__dirname, '..'), maxBuffer: 16 * 1024 * 1024 },
    );
    const messages = JSON.parse(stdout) as Message[][];
    snippets.forEach((s, i) => results.set(s, messages[i]));
  });

  const messagesOf = (filePath: string, specifier: string): Message[] | undefined =>
    [...results].find(([s]) => s.filePath === filePath && s.code === importing(specifier))?.[1];

  it.each(acrossApps)('%s importing %s is an error naming %s', (filePath, specifier, other) => {
    expect(messagesOf(filePath, specifier)).toEqual([
      expect.objectContaining({
        ruleId: RULE,
        severity: 2,
        message: expect.stringContaining(`may not import from ${other}`),
      }),
    ]);
  });

  it.each(libIntoApp)('lib file %s importing %s is an error', (filePath, specifier) => {
    expect(messagesOf(filePath, specifier)).toEqual([
      expect.objectContaining({
        ruleId: RULE,
        severity: 2,
        message: expect.stringContaining('libs/ may not import from apps/'),
      }),
    ]);
  });

  it.each(allowed)('%s importing %s is allowed', (filePath, specifier) => {
    expect(messagesOf(filePath, specifier)).toEqual([]);
  });

  it('catches re-exports and type-only imports from another app', () => {
    expect(results.get(reExportAndTypeImport)?.map((m) => [m.ruleId, m.line])).toEqual([
      [RULE, 1],
      [RULE, 2],
    ]);
  });
});
