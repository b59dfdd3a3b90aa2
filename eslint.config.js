import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'src/generated', 'bench/results', 'test-artifacts', 'dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['bin/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The planner is pure: plain data in, operations out. No I/O.
    files: ['src/planner/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'pg',
                'ioredis',
                'bullmq',
                'undici',
                'node:*',
                'fs',
                'net',
                'http',
                '@prisma/*',
                '../db/*',
                '../sync/*',
                '../afilnet/*',
              ],
              message: 'src/planner is pure: no I/O imports.',
            },
          ],
        },
      ],
    },
  },
  {
    // Only src/config reads the environment.
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config.' },
      ],
    },
  },
  { files: ['bin/*.mjs', 'eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
