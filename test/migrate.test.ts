import { afterEach, describe, expect, it, vi } from 'vitest'
import { dropLegacy } from '../src/migrate'
import { makeStore } from './helpers'

/** What session-keystore 1.x leaves for store `name` (its `persist()`): the two halves of its keys. */
async function leaveLegacyHalves(name: string): Promise<void> {
  const { default: Legacy } = await import('session-keystore')
  const old = new Legacy<'masterKey'>({ name })
  old.set('masterKey', 'old secret')
  old.persist()
}

afterEach(() => {
  sessionStorage.clear()
  window.name = ''
})

describe("session-keystore's halves are removed at load, not migrated (issue 24, item 9)", () => {
  it('both halves of the store of that name go; other entries of window.name stay', async () => {
    window.name = JSON.stringify({ other: 'kept', 'session-keystore:app2': 'x' })
    await leaveLegacyHalves('app')
    expect(sessionStorage.getItem('session-keystore:app')).not.toBeNull()
    expect(JSON.parse(window.name)).toHaveProperty(['session-keystore:app'])
    const store = makeStore({ name: 'app' })
    expect(sessionStorage.getItem('session-keystore:app')).toBeNull()
    const entries = JSON.parse(window.name) as Record<string, unknown>
    expect(entries).not.toHaveProperty(['session-keystore:app'])
    expect(entries).toMatchObject({ other: 'kept', 'session-keystore:app2': 'x' })
    expect(store.has('masterKey')).toBe(false) // nothing carried over
  })

  it("the halves of another store's name are left alone", async () => {
    await leaveLegacyHalves('other')
    const half = sessionStorage.getItem('session-keystore:other')
    const windowHalf = (JSON.parse(window.name) as Record<string, unknown>)['session-keystore:other']
    makeStore({ name: 'app' })
    expect(sessionStorage.getItem('session-keystore:other')).toBe(half)
    expect((JSON.parse(window.name) as Record<string, unknown>)['session-keystore:other']).toBe(windowHalf)
  })

  it("the default store (session-keystore's `default` too), with our own share beside the halves in window.name", async () => {
    const first = makeStore()
    first.set('k', 'v')
    await leaveLegacyHalves('default')
    const before = JSON.parse(window.name) as Record<string, unknown>
    expect(Object.keys(before).sort()).toEqual(['session-keystore:default', 'tab-keystore:default'])
    first.destroy()
    makeStore()
    expect(sessionStorage.getItem('session-keystore:default')).toBeNull()
    expect(Object.keys(JSON.parse(window.name) as object)).toEqual(['tab-keystore:default'])
  })

  it('a window.name of other content, JSON or not, is left as it was; blocked storage throws nothing', () => {
    for (const name of [
      'plain name',
      '{not json session-keystore:app',
      '["session-keystore:app"]',
      '{"session-keystore:ap":1}',
    ]) {
      window.name = name
      dropLegacy('app')
      expect(window.name).toBe(name)
    }
    vi.spyOn(Storage.prototype, 'removeItem').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError')
    })
    window.name = JSON.stringify({ 'session-keystore:app': 'half', deep: { kept: [1] } })
    expect(() => dropLegacy('app')).not.toThrow()
    expect(window.name).toBe('{"deep":{"kept":[1]}}') // the window.name half went all the same
    window.name = JSON.stringify({ 'session-keystore:app': 'half' })
    dropLegacy('app')
    expect(window.name).toBe('') // as session-keystore leaves it when it takes the last entry
  })

  it('the window.name half is removed before our share handling reads window.name', async () => {
    // Our reader ignores a window.name over 8 KiB whole: a large old half would hide our share.
    const first = makeStore({ name: 'big' })
    first.set('k', 'v')
    first.persist()
    const entries = JSON.parse(window.name) as Record<string, string>
    entries['session-keystore:big'] = 'A'.repeat(10_000)
    window.name = JSON.stringify(entries)
    // A reload: the same tab's storage and name, the modules loaded afresh.
    vi.resetModules()
    const { SessionKeystore: Reloaded } = await import('../src/index')
    const errors: string[] = []
    const store = new Reloaded({ name: 'big' })
    store.on('error', ({ reason }) => errors.push(reason))
    await Promise.resolve()
    expect(store.get('k')).toBe('v')
    expect(errors).toEqual([])
    store.destroy()
    first.destroy()
  })
})

describe('outside a browser window', () => {
  it('does nothing where there is no document (Node, SSR, Workers)', () => {
    vi.stubGlobal('document', undefined)
    window.name = JSON.stringify({ 'session-keystore:app': 'half' })
    sessionStorage.setItem('session-keystore:app', 'other half')
    dropLegacy('app')
    vi.unstubAllGlobals()
    expect(sessionStorage.getItem('session-keystore:app')).toBe('other half')
  })
})
