import { beforeEach, describe, expect, it, vi } from 'vitest'
import { encodeEntries } from '../src/encoding'
import { context } from '../src/lifecycle/placement'
import { seal } from '../src/seal'
import { readShare } from '../src/share'
import { tabs } from '../src/tabs/index'
import { type Opened, fire, freshTabs, leave, open, setRecord } from './lifecycle/page'

// `delete(name, { everywhere: true })` reaches the tabs that do not hear it, as a logout
// everywhere does. Several tabs of one origin in one happy-dom window: localStorage is
// shared, each tab has its own sessionStorage and window.name (swapped in by `inTab`),
// and a fake BroadcastChannel reaches the open pages of the other tabs, except those of
// a muted tab (a page in the back/forward cache, or one that misses the message). Only
// the page whose tab is shown may have listeners when a lifecycle event is fired: pages
// of other tabs are destroyed first.

class Tab {
  session: Record<string, string> = {}
  name = ''
}
let shown: Tab

/** Runs `body` in `tab`, then shows the tab that was shown before. */
async function inTab<T>(tab: Tab, body: () => Promise<T> | T): Promise<T> {
  const before = shown
  show(tab)
  try {
    return await body()
  } finally {
    show(before)
  }
}
function show(tab: Tab): void {
  if (shown) {
    shown.session = Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)!]))
    shown.name = window.name
  }
  sessionStorage.clear()
  for (const [key, value] of Object.entries(tab.session)) sessionStorage.setItem(key, value)
  window.name = tab.name
  shown = tab
}

class HubChannel {
  static open: HubChannel[] = []
  static muted = new Set<Tab>()
  readonly tab = shown
  listeners: ((event: { data: unknown }) => void)[] = []
  constructor(readonly name: string) {
    HubChannel.open.push(this)
  }
  postMessage(message: unknown): void {
    for (const other of HubChannel.open) {
      // A page muted when the message is sent never gets it.
      if (other === this || other.name !== this.name || HubChannel.muted.has(other.tab)) continue
      const data = structuredClone(message)
      setTimeout(() => HubChannel.open.includes(other) && other.listeners.forEach((l) => l({ data })), 0)
    }
  }
  addEventListener(_: 'message', listener: (event: { data: unknown }) => void): void {
    this.listeners.push(listener)
  }
  close(): void {
    HubChannel.open = HubChannel.open.filter((c) => c !== this)
  }
  /** The pages of `tab` are gone (a reload): their channels with them. */
  static closeTab(tab: Tab): void {
    HubChannel.open = HubChannel.open.filter((c) => c.tab !== tab)
  }
}

/** Lets messages and handoffs run (well within the handoff's 1 s). */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30))
const pageshow = (): boolean => fire('pageshow', { persisted: true })

/** Another tab deletes `key` everywhere while `page`, in the back/forward cache, hears nothing; then `page` comes back. */
async function deletedWhileCached(page: { events: string[] }, key: string): Promise<void> {
  HubChannel.muted.add(shown)
  await deleteInAnotherTab(key)
  HubChannel.muted.clear()
  page.events.length = 0
  pageshow()
}
const openTabs = async (): Promise<Opened> => {
  const page = await open({ tabs })
  await settle()
  return page
}
/** The page of the shown tab goes for good (a reload, a link within the app). */
function reload(): void {
  HubChannel.closeTab(shown)
  leave()
}
/** A tab opened for the purpose, which deletes `key` everywhere and closes. */
const deleteInAnotherTab = (key: string): Promise<void> =>
  inTab(new Tab(), async () => {
    const other = await openTabs()
    other.store.delete(key, { everywhere: true })
    other.store.destroy()
  })

freshTabs()
beforeEach(() => {
  HubChannel.open = []
  HubChannel.muted.clear()
  shown = new Tab()
  vi.stubGlobal('BroadcastChannel', HubChannel)
  // Without Web Locks every tab with keys answers, at once (the first answer is taken).
  vi.spyOn(navigator, 'locks', 'get').mockReturnValue(undefined as never)
})

describe('delete everywhere reaches the tabs that do not hear it', () => {
  it('a page in the back/forward cache at that moment drops the key when it comes back, told as deleted, and keeps the others', async () => {
    const page = await openTabs()
    page.store.set('a', 'secret a')
    page.store.set('b', 'secret b')
    fire('pagehide', { persisted: true })
    await deletedWhileCached(page, 'a')
    expect(page.store.keys()).toEqual(['b'])
    expect(page.events).toEqual(['deleted:a'])
    expect(page.errors).toEqual([])
  })

  it('back from the cache, the newer state of its tab (sealed by a later page before the delete) does not bring the key back', async () => {
    const page = await openTabs()
    page.store.set('b', 'kept')
    fire('pagehide', { persisted: true })
    // A later page of the tab set `a` and sealed its state for the way back, as in
    // test/lifecycle/machine.test.ts, knowing of no deletion.
    const later = new Map([
      ['a', { value: 'secret a', expiresAt: Infinity }],
      ['b', { value: 'kept', expiresAt: Infinity }],
    ])
    const gen = '1a7e5a7e00000000'
    setRecord({
      g: gen,
      n: 2,
      w: 'slot',
      s: seal(
        encodeEntries(later, Date.now(), { epoch: '', lastActive: Date.now() }).bytes,
        readShare('app') as Uint8Array,
        'app',
        context(gen),
      ),
    })
    await deletedWhileCached(page, 'a')
    expect(page.store.keys()).toEqual(['b'])
    expect(page.events).toEqual(['restored:history:1'])
    expect(page.errors).toEqual([])
  })

  it('a page reloading at that moment (its state sealed in sessionStorage) does not bring the key back', async () => {
    const first = await openTabs()
    first.store.set('a', 'secret a')
    first.store.set('b', 'secret b')
    reload()
    expect(sessionStorage.getItem('tab-keystore:app')).not.toBeNull()
    await deleteInAnotherTab('a')
    const next = await openTabs()
    expect(next.store.keys()).toEqual(['b'])
    // The key never was in this page's store: nothing to tell.
    expect(next.events).toEqual(['restored:reload:1'])
    expect(next.errors).toEqual([])
  })

  it('a handoff from a tab that did not hear the delete does not bring the key to a new tab', async () => {
    const holder = new Tab()
    const stale = await inTab(holder, async () => {
      const page = await openTabs()
      page.store.set('a', 'secret a')
      page.store.set('b', 'secret b')
      return page
    })
    HubChannel.muted.add(holder)
    await deleteInAnotherTab('a')
    HubChannel.muted.clear()
    expect(stale.store.keys()).toEqual(['a', 'b']) // it missed the message: its answer carries what it knew
    const fresh = await inTab(new Tab(), openTabs)
    expect(fresh.store.keys()).toEqual(['b'])
    expect(fresh.events).toEqual(['restored:tab:1'])
    expect(fresh.errors).toEqual([])
  })

  it('control: a key set again after the delete everywhere survives a reload, a return and a handoff, while the copy from before goes', async () => {
    const cached = await openTabs()
    cached.store.set('a', 'before')
    cached.store.set('b', 'kept')
    fire('pagehide', { persisted: true })
    HubChannel.muted.add(shown)
    const deleter = new Tab()
    await inTab(deleter, async () => {
      const page = await openTabs()
      page.store.set('b', 'kept')
      expect(page.store.delete('a', { everywhere: true })).toBe(false)
      page.store.set('a', 'after')
    })
    // The copy from before goes: the page in the cache comes back without it.
    HubChannel.muted.clear()
    pageshow()
    expect([cached.store.keys(), cached.events.at(-1)]).toEqual([['b'], 'deleted:a'])
    cached.store.destroy()

    await inTab(deleter, async () => {
      reload()
      const reloaded = await openTabs()
      expect([reloaded.store.get('a'), reloaded.events]).toEqual(['after', ['restored:reload:2']])
      fire('pagehide', { persisted: true })
      pageshow()
      expect([reloaded.store.get('a'), reloaded.events]).toEqual(['after', ['restored:reload:2']])
    })
    const handed = await inTab(new Tab(), openTabs)
    expect([handed.store.get('a'), handed.store.get('b'), handed.events]).toEqual(['after', 'kept', ['restored:tab:2']])
  })

  it('control: a page that heard the delete and sets the key again keeps it across a reload and a handoff', async () => {
    const listener = await openTabs()
    listener.store.set('a', 'before')
    await deleteInAnotherTab('a')
    await settle()
    expect(listener.events.at(-1)).toBe('deleted:a')
    listener.store.set('a', 'after')
    reload()
    const reloaded = await openTabs()
    expect([reloaded.store.get('a'), reloaded.events]).toEqual(['after', ['restored:reload:1']])
    const handed = await inTab(new Tab(), openTabs)
    expect([handed.store.get('a'), handed.events]).toEqual(['after', ['restored:tab:1']])
  })

  it('what it leaves in localStorage names no key, and a logout everywhere removes it', async () => {
    const page = await openTabs()
    page.store.set('masterKey:alice@example.com', 'v')
    page.store.delete('masterKey:alice@example.com', { everywhere: true })
    const stored = localStorage.getItem('tab-keystore/deleted/app')!
    expect(Object.values(JSON.parse(stored))).toHaveLength(1)
    expect(stored).not.toMatch(/alice|masterKey/)
    page.store.clear({ everywhere: true })
    expect(localStorage.getItem('tab-keystore/deleted/app')).toBeNull()
  })
})
