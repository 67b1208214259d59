import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    // The library runs in browsers and in Node (SSR); the tests and tools run in Node and
    // hand functions to browser pages.
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      'no-console': ['error', { allow: ['error'] }],
      // noUncheckedIndexedAccess types every typed-array read as possibly undefined;
      // the loops that index them stay within bounds.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['test/**', 'e2e/**', 'bench/**', '.ci/**'], rules: { 'no-console': 'off' } },
)
