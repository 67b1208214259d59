import { StrictMode, act, createElement, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { SessionKeystore } from '../src/index'
import { useKey, usePending } from '../src/react'
import { waitingTabs } from './helpers'

// React 19 in StrictMode, as an app meets it: double-invoked initializers and renders.
beforeAll(() => {
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true
})
const cleanup: (() => void)[] = []
afterEach(() => {
  for (const run of cleanup.splice(0)) run()
  vi.restoreAllMocks()
})

function mount(element: ReturnType<typeof createElement>): HTMLElement {
  const container = document.createElement('div')
  const root = createRoot(container)
  act(() => root.render(createElement(StrictMode, null, element)))
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
