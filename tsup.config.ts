import { defineConfig } from 'tsup'

const entry = {
  index: 'src/index.ts',
  errors: 'src/errors-entry.ts',
  tabs: 'src/tabs/index.ts',
  idle: 'src/idle-entry.ts',
  persistent: 'src/persistent/index.ts',
  react: 'src/react.ts',
}

// Members tagged `@internal` stay out of the declarations: a `[Symbol.dispose]` method
// named there breaks consumers that compile with skipLibCheck false and without
// TypeScript's esnext.disposable lib.
const dts = { compilerOptions: { stripInternal: true } }

export default defineConfig([
  // ESM keeps @noble/ciphers external, so an app that uses it too ships it once.
  { entry, format: ['esm'], dts, clean: true, target: 'es2022' },
  // @noble/ciphers 2 is ESM-only: the CJS build carries its own copy so that `require`
  // works in every CJS loader, not only in Node versions with require(esm). Split into
  // shared chunks like the ESM build: with a copy of KeystoreError in each entry, an error
  // thrown by tab-keystore/persistent failed `instanceof` the class from tab-keystore.
  { entry, format: ['cjs'], dts, target: 'es2022', noExternal: ['@noble/ciphers'], splitting: true },
])
