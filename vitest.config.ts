import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // happy-dom for the browser-ish unit tests; files that need plain Node say so
    // with a `@vitest-environment node` docblock. Reload behaviour is proven in e2e/.
    environment: 'happy-dom',
    include: ['test/**/*.test.ts'],
  },
})
