import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: {
        window: 'readonly', document: 'readonly', console: 'readonly', process: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', crypto: 'readonly', URL: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly',
        sessionStorage: 'readonly', DOMException: 'readonly', performance: 'readonly',
        location: 'readonly', Buffer: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        URLSearchParams: 'readonly', Storage: 'readonly', Event: 'readonly', crossOriginIsolated: 'readonly', btoa: 'readonly',
        BroadcastChannel: 'readonly', navigator: 'readonly', structuredClone: 'readonly',
        localStorage: 'readonly', indexedDB: 'readonly', atob: 'readonly', setImmediate: 'readonly',
      },
    },
    rules: {
      'no-console': ['error', { allow: ['error'] }],
      // noUncheckedIndexedAccess types every typed-array read as possibly undefined;
      // the loops that index them stay within bounds.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['test/**', 'e2e/**', 'bench/**'], rules: { 'no-console': 'off' } },
)
