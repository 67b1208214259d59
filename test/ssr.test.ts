// @vitest-environment node
import { describe, expect, it, vi } from 'vitest'

describe('Node, SSR and Workers (no window)', () => {
  it('import reads and writes nothing and the store works in memory', async () => {
    expect(typeof window).toBe('undefined')
    const touched: string[] = []
    const trap = new Proxy({}, { get: (_, key) => void touched.push(String(key)) })
    vi.stubGlobal('sessionStorage', trap)
    vi.stubGlobal('localStorage', trap)
    vi.resetModules()
    const { SessionKeystore } = await import('../src/index')
    expect(touched).toEqual([])
    const store = new SessionKeystore<'k'>({ name: 'ssr' })
    // Memory only: several same-named stores (one per request) are fine on a server.
    const other = new SessionKeystore<'k'>({ name: 'ssr' })
    store.set('k', 'v')
    expect(store.get('k')).toBe('v')
    expect(other.get('k')).toBeNull()
    store.persist() // a no-op without a tab
    expect(touched).toEqual([])
    store.destroy()
    other.destroy()
    vi.unstubAllGlobals()
  })

  it('expiry timers do not keep the process alive', async () => {
    const { SessionKeystore } = await import('../src/index')
    const made: ReturnType<typeof setTimeout>[] = []
    const real = globalThis.setTimeout
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const timer = real(fn, ms)
      made.push(timer)
      return timer
    }) as typeof setTimeout)
    const store = new SessionKeystore({ name: 'unref' })
    store.set('k', 'v', Date.now() + 3_600_000)
    expect(made).toHaveLength(1)
    expect(made[0]!.hasRef()).toBe(false)
    store.destroy()
  })
})

describe('the persistent tier outside a browser', () => {
  it('without a storage option, open() says there is no localStorage here and what to pass instead', async () => {
    const { PersistentKeystore } = await import('../src/persistent/index')
    const attempt = PersistentKeystore.open({ namespace: 'n', key: new Uint8Array(32) })
    await expect(attempt).rejects.toMatchObject({ name: 'KeystoreError', code: 'storage-unavailable' })
    await expect(attempt).rejects.toThrow(/no localStorage here .* or an adapter with get, set, delete and keys/)
  })
})
