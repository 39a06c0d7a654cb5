// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

// Module boundaries. An app imports libs and its own files, never another app; a lib imports no
// app. The rule sees the import specifier as written, not the path it resolves to, so the
// patterns (gitignore globs) match the other app's `src` directory at any depth of `../`, and
// any path through `apps/` (the tsconfig baseUrl makes `apps/...` importable too).
const APPS = ['admin-api', 'consumer-worker', 'invoker'];

/** Globs for every specifier that reaches into `app`. */
const intoApp = (app) => [
  `**/${app}/src`,
  `**/${app}/src/**`,
  `**/apps/${app}`,
  `**/apps/${app}/**`,
];

/** One config block per app: its files may import from no other app. test/ and bench/ may. */
const appBoundaries = APPS.map((app) => ({
  files: [`apps/${app}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: APPS.filter((other) => other !== app).map((other) => ({
          group: intoApp(other),
          message: `apps/${app} may not import from apps/${other}: share code through libs/ instead.`,
        })),
      },
    ],
  },
}));

const libBoundaries = {
  files: ['libs/**/*.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: ['**/apps', '**/apps/**', ...APPS.flatMap(intoApp)],
            message: 'libs/ may not import from apps/: a lib is used by the apps, not the reverse.',
          },
        ],
      },
    ],
  },
};

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'libs/sdk/dist/',
      'node_modules/',
      'coverage/',
      'eslint.config.mjs',
      'jest.config.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        process: 'readonly',
        console: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  ...appBoundaries,
  libBoundaries,
);
