import { StrictMode, act, createElement, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { describe, expect, it, vi } from 'vitest'
import { SessionKeystore } from '../src/index'
import { useKey, usePending } from '../src/react'
import { waitingTabs } from './helpers'
import { reactEnvironment } from './react-env'

// React 19 in StrictMode, as an app meets it: double-invoked initializers and renders.
const cleanup = reactEnvironment()

function mount(element: ReturnType<typeof createElement>, strict = true): HTMLElement {
  const container = document.createElement('div')
  const root = createRoot(container)
  act(() => root.render(strict ? createElement(StrictMode, null, element) : element))
  cleanup.push(() => act(() => root.unmount()))
  return container
}

describe('tab-keystore/react in React 19 StrictMode', () => {
  it('useState(() => new SessionKeystore()) and useKey: one store, re-renders on change, bytes keep their identity, reads stay bounded', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const stores = new Set<SessionKeystore<{ masterKey: Uint8Array }>>()
    const seen: (Uint8Array | null)[] = []
    let rerender: () => void = () => undefined
    let reads = 0
    function App() {
      // The pattern that threw "already open in this page" under StrictMode.
      const [store] = useState(() => new SessionKeystore<{ masterKey: Uint8Array }>({ name: 'react-app' }))
      stores.add(store)
      const [, setTick] = useState(0)
      rerender = () => setTick((n) => n + 1)
      const masterKey = useKey(store, 'masterKey')
      seen.push(masterKey)
      return createElement('p', null, masterKey ? `key of ${masterKey.length} bytes` : 'locked')
    }
    const view = mount(createElement(App))
    expect(view.textContent).toBe('locked')
    expect(stores.size).toBe(1)
    const [store] = stores
    cleanup.push(() => store!.destroy())
    store!.on('read', () => reads++)
    await act(async () => store!.set('masterKey', new Uint8Array(32)))
    expect(view.textContent).toBe('key of 32 bytes')
    const readsAfterChange = reads
    const value = seen.at(-1)
    for (let i = 0; i < 5; i++) act(() => rerender())
    expect(seen.at(-1)).toBe(value) // the same object: no "getSnapshot should be cached" loop
    expect(reads).toBe(readsAfterChange) // re-renders do not read again
    await act(async () => store!.delete('masterKey'))
    expect(view.textContent).toBe('locked')
    expect(errors).not.toHaveBeenCalled()
  })

  // StrictMode (development only) calls the component and useMemo's function twice per
  // render: each figure there is twice the production one, effects aside (run once per change).
  it.each([
    ['in StrictMode', true, 2],
    ['without StrictMode', false, 1],
  ])(
    'useKey renders, reads and hands out a new value only when its own key changes, %s (issue 24, item 4)',
    async (_, strict, passes) => {
      const store = new SessionKeystore<{ masterKey: Uint8Array; token: string }>({ name: 'react-own-key' })
      cleanup.push(() => store.destroy())
      const count = { renders: 0, reads: 0, effects: 0 }
      store.on('read', ({ name }) => void (name === 'masterKey' && count.reads++))
      function Vault() {
        count.renders++
        const masterKey = useKey(store, 'masterKey')
        // Stands for re-importing a CryptoKey: it must run again only for new bytes.
        useEffect(() => void count.effects++, [masterKey])
        return createElement('p', null, masterKey ? `key ${masterKey[0]}` : 'locked')
      }
      const view = mount(createElement(Vault), strict)
      await act(async () => store.set('masterKey', new Uint8Array(32).fill(1)))
      expect(view.textContent).toBe('key 1')
      const before = { ...count }
      // Another key's changes, of every kind, add nothing at all.
      for (let i = 0; i < 3; i++) await act(async () => store.set('token', `token ${i}`))
      await act(async () => store.set('token', 'token 2', Date.now() + 60_000)) // its expiry only
      await act(async () => store.delete('token'))
      expect(count).toEqual(before)
      // Its own key: one render, one read, one effect run.
      await act(async () => store.set('masterKey', new Uint8Array(32).fill(2)))
      expect(view.textContent).toBe('key 2')
      expect({
        renders: count.renders - before.renders,
        reads: count.reads - before.reads,
        effects: count.effects - before.effects,
      }).toEqual({ renders: passes, reads: passes, effects: 1 })
    },
  )

  it('useKey sees its own expiry move, its expiry pass and a handoff from another tab', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] })
    cleanup.push(() => vi.useRealTimers())
    const tabs = waitingTabs()
    const store = new SessionKeystore<{ token: string; other: string }>({ name: 'react-expiry', tabs: tabs.plugin })
    cleanup.push(() => store.destroy())
    function Token() {
      const token = useKey(store, 'token')
      return createElement('p', null, `${token} until ${store.expiresAt('token')?.getTime() ?? 'never'}`)
    }
    const view = mount(createElement(Token))
    expect(view.textContent).toBe('null until never')
    // A handoff puts keys without per-key events: only `restored` says they came.
    await act(async () => tabs.give([['token', 'handed over', Infinity]]))
    expect(view.textContent).toBe('handed over until never')
    const soon = Date.now() + 60_000
    // The same value with an expiry emits no per-key event, only a new version.
    await act(async () => store.set('token', 'handed over', soon))
    expect(view.textContent).toBe(`handed over until ${soon}`)
    await act(async () => void vi.advanceTimersByTime(60_000))
    expect(view.textContent).toBe('null until never')
  })

  it('usePending shows the wait for another tab, then what it brought', async () => {
    const tabs = waitingTabs()
    const store = new SessionKeystore<'token'>({ name: 'react-pending', tabs: tabs.plugin })
    cleanup.push(() => store.destroy())
    function Gate() {
      const pending = usePending(store)
      const token = useKey(store, 'token')
      return createElement('p', null, pending ? 'waiting for another tab' : token ? 'unlocked' : 'login')
    }
    const view = mount(createElement(Gate))
    expect(view.textContent).toBe('waiting for another tab')
    await act(async () => tabs.give([['token', 'handed over', Infinity]]))
    expect(view.textContent).toBe('unlocked')
  })
})
