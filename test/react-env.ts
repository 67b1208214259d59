import { afterEach, beforeAll, vi } from 'vitest'

/** React 19's `act()` environment for a test file; returns the list of unmounts run after each test. */
export function reactEnvironment(): (() => void)[] {
  beforeAll(() => {
    ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true
  })
  const cleanup: (() => void)[] = []
  afterEach(() => {
    for (const run of cleanup.splice(0)) run()
    vi.restoreAllMocks()
  })
  return cleanup
}
