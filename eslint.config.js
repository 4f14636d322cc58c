// Lint rules `npm test` enforces (a failure fails the run). typescript-eslint's recommended set, plus the
// layer rules the architecture rests on: only the extension imports `vscode`, and core does no I/O.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'out/', '.demo/', 'test/vscode/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/extension/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'only src/extension/ talks to VS Code' }] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:fs', 'node:fs/promises', 'node:child_process', 'node:net', 'node:http', 'node:https', 'vscode'].map((name) => ({
            name,
            message: 'core/ is pure: I/O belongs to kubo/, nix/ or services/',
          })),
        },
      ],
    },
  },
);
