// Lint for TypeScript sources: typescript-eslint's recommended rules, with
// Prettier owning formatting (eslint-config-prettier turns style rules off).
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/*.js', '**/*.mjs', 'nodes/**/*.html'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      // The domain stays free of Node-RED: it is driven through narrow interfaces.
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node-red', '@node-red/*'], message: 'lib/ must not depend on Node-RED' }] },
      ],
    },
  },
);
