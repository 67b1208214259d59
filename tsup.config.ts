import { defineConfig } from 'tsup'

const entry = {
  index: 'src/index.ts',
  tabs: 'src/tabs/index.ts',
  idle: 'src/idle.ts',
  persistent: 'src/persistent/index.ts',
  react: 'src/react.ts',
}

export default defineConfig([
  // ESM keeps @noble/ciphers external, so an app that uses it too ships it once.
  { entry, format: ['esm'], dts: true, clean: true, target: 'es2022' },
  // @noble/ciphers 2 is ESM-only: the CJS build carries its own copy so that `require`
  // works in every CJS loader, not only in Node versions with require(esm).
  { entry, format: ['cjs'], dts: true, target: 'es2022', noExternal: ['@noble/ciphers'] },
])
