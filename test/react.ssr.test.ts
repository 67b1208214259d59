import { StrictMode, act, createElement } from 'react'
import { hydrateRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { describe, expect, it, vi } from 'vitest'
import { SessionKeystore } from '../src/index'
import { useKey, usePending } from '../src/react'
import { waitingTabs } from './helpers'
import { reactEnvironment } from './react-env'

const cleanup = reactEnvironment()

type Store = SessionKeystore<{ masterKey: Uint8Array }>

function Gate({ store }: { store: Store }) {
  const pending = usePending(store)
  const masterKey = useKey(store, 'masterKey')
  return createElement('p', null, pending ? 'waiting for another tab' : masterKey ? 'unlocked' : 'login')
}

/**
 * What a server-rendered page goes through: the server's store is memory-only and empty,
 * the client's came back with its keys (after a reload, or from another tab) before React
 * hydrates the server's HTML. React must neither see a mismatch nor throw the HTML away.
 */
function hydrate(server: Store, client: Store): { view: HTMLElement; errors: unknown[] } {
  const errors: unknown[] = []
  vi.spyOn(console, 'error').mockImplementation((...args) => void errors.push(args))
  const view = document.createElement('div')
  view.innerHTML = renderToString(createElement(StrictMode, null, createElement(Gate, { store: server })))
  expect(view.textContent).toBe('login')
  let root: ReturnType<typeof hydrateRoot> | undefined
  act(() => {
    root = hydrateRoot(view, createElement(StrictMode, null, createElement(Gate, { store: client })), {
      onRecoverableError: (error) => void errors.push(error),
    })
  })
  cleanup.push(() => act(() => root!.unmount()))
  return { view, errors }
}

describe('tab-keystore/react with a server renderer and hydrateRoot (issue 24, item 5)', () => {
  it('useKey hydrates to what the server rendered, then shows the key the client holds', () => {
    const server: Store = new SessionKeystore({ name: 'ssr-server' })
    const client: Store = new SessionKeystore({ name: 'ssr-client' })
    cleanup.push(
      () => server.destroy(),
      () => client.destroy(),
    )
    client.set('masterKey', new Uint8Array(32))
    const { view, errors } = hydrate(server, client)
    expect(errors).toEqual([])
    expect(view.textContent).toBe('unlocked')
  })

  it('usePending hydrates as false, the server never waits, then shows the wait', async () => {
    const tabs = waitingTabs()
    const server: Store = new SessionKeystore({ name: 'ssr-server' })
    const client: Store = new SessionKeystore({ name: 'ssr-client', tabs: tabs.plugin })
    cleanup.push(
      () => server.destroy(),
      () => client.destroy(),
    )
    const { view, errors } = hydrate(server, client)
    expect(errors).toEqual([])
    expect(view.textContent).toBe('waiting for another tab')
    await act(async () => tabs.give([['masterKey', new Uint8Array(32), Infinity]]))
    expect(view.textContent).toBe('unlocked')
  })
})
