import { describe, expect, it, vi } from 'vitest'
import { context } from '../../src/lifecycle/placement'
import { seal, tag } from '../../src/seal'
import { readShare } from '../../src/share'
import {
  fakeNavigation,
  fire,
  freshTabs,
  hasPageswap,
  leave,
  open,
  record,
  recordWritten,
  refusing,
  setRecord,
  shareOf,
} from './page'

// Fail closed: what the library cannot observe or could not write, it does not trust
// (DESIGN.md). Each case has a control that goes the other way; e2e/failclosed.test.js
// plays them in Chromium, Firefox and WebKit.

freshTabs()

const SEALED = 'tab-keystore:app'
const pageshow = (): boolean => fire('pageshow', { persisted: true })
const pageswap = (activation: { navigationType: string } | null): boolean => fire('pageswap', { activation })
const tagOf = (hex: string): string => tag(Uint8Array.from(Buffer.from(hex, 'hex')))

describe('a departure nobody announced, where other origins may read the name', () => {
  const kinds = {
    'a window another page opened': () => vi.spyOn(window, 'opener', 'get').mockReturnValue({} as Window),
    'a frame': () => vi.spyOn(window, 'top', 'get').mockReturnValue({} as Window),
  }
  for (const [kind, become] of Object.entries(kinds)) {
    it(`${kind}, navigated by another window (no navigate, no pageswap: Firefox): no seal, the share no longer vouched for, told`, async () => {
      become()
      const first = await open()
      first.store.set('k', 'v')
      const s1 = shareOf()
      leave()
      expect(sessionStorage.getItem(SEALED)).toBeNull()
      expect(record()).toMatchObject({ w: 'away', n: 1 })
      expect(record()!.v).not.toContain(tagOf(s1))
      // The name is kept: the next page finds S1, which a site may have read, and does not trust it.
      const second = await open()
      expect([second.store.size, second.errors]).toEqual([0, ['left-origin']])
      expect(shareOf()).not.toBe(s1)
    })
  }

  it('a window another page opened takes a fresh share after a departure nobody told of (Firefox fires no pagehide at all there, at times): nothing is sealed later under a share a site read', async () => {
    vi.spyOn(window, 'opener', 'get').mockReturnValue({} as Window)
    const first = await open()
    first.store.set('k', 'v')
    await Promise.resolve()
    const s1 = shareOf()
    leave({ hide: false })
    const second = await open()
    expect([second.store.size, second.errors]).toEqual([0, ['lost']])
    expect(shareOf()).not.toBe(s1)
    expect(record()!.v).not.toContain(tagOf(s1))
  })

  it('a window another page opened, back from another site by a fresh load: told left-origin, not taken for a new window (which would lose the keys in silence)', async () => {
    vi.spyOn(window, 'opener', 'get').mockReturnValue({} as Window)
    const nav = fakeNavigation(null, ['a'])
    const first = await open()
    first.store.set('k', 'v')
    nav.navigate('https://elsewhere.example/')
    leave()
    vi.unstubAllGlobals()
    const second = await open()
    expect([second.store.size, second.errors]).toEqual([0, ['left-origin']])
  })

  it('control: a window another page just opened, with a copy of its sessionStorage and no share, is a new window', async () => {
    const first = await open()
    first.store.set('k', 'v')
    leave()
    window.name = ''
    vi.spyOn(window, 'opener', 'get').mockReturnValue({} as Window)
    const popup = await open()
    expect([popup.store.size, popup.errors]).toEqual([0, []])
  })

  it('control: a window another page opened keeps its share across a reload (announced, sealed for the next page)', async () => {
    vi.spyOn(window, 'opener', 'get').mockReturnValue({} as Window)
    const first = await open()
    first.store.set('k', 'v')
    const s1 = shareOf()
    hasPageswap(true)
    pageswap({ navigationType: 'reload' })
    leave()
    const second = await open()
    expect([second.store.get('k'), second.errors, shareOf()]).toEqual(['v', [], s1])
  })

  it('control: a top-level window keeps its share across loads', async () => {
    await open()
    const s1 = shareOf()
    leave({ hide: false })
    await open()
    expect(shareOf()).toBe(s1)
  })

  it('control: a top-level window without an opener in Firefox (which clears the name for other origins) seals for the next page', async () => {
    const first = await open()
    first.store.set('k', 'v')
    leave()
    expect(sessionStorage.getItem(SEALED)).not.toBeNull()
    const second = await open()
    expect([second.store.get('k'), second.errors]).toEqual(['v', []])
  })

  it('an engine with pageswap that fired none: not trusted either; with it (a reload), the next page has the keys', async () => {
    hasPageswap(true)
    const first = await open()
    first.store.set('k', 'v')
    leave()
    expect([sessionStorage.getItem(SEALED), record()!.w]).toEqual([null, 'away'])
    expect((await open()).errors).toEqual(['left-origin'])
    const third = await open()
    third.store.set('k', 'v')
    pageswap({ navigationType: 'reload' })
    leave()
    expect((await open()).store.get('k')).toBe('v')
  })

  it('a window another page opened: a site that read the share and emptied window.name before Back does not make it trusted again', async () => {
    vi.spyOn(window, 'opener', 'get').mockReturnValue({} as Window)
    const { store } = await open()
    store.set('k', 'v')
    const s1 = shareOf()
    pageswap(null)
    fire('pagehide', { persisted: true })
    window.name = '' // the site, after reading it
    pageshow()
    expect(shareOf()).not.toBe(s1)
    expect(record()!.v).not.toContain(tagOf(s1))
    expect(store.get('k')).toBe('v')
  })

  it('control: in a top-level window without an opener (WebKit clears the name), an empty name on return keeps the share', async () => {
    await open()
    const s1 = shareOf()
    pageswap(null)
    fire('pagehide', { persisted: true })
    window.name = ''
    pageshow()
    expect(shareOf()).toBe(s1)
  })
})

describe('exposures are never forgotten', () => {
  it('a page whose share the record no longer vouches for (fallen off the end after many trips) takes a fresh one, keeping its keys', async () => {
    const { store, errors } = await open()
    store.set('k', 'v')
    const s1 = shareOf()
    fire('pagehide', { persisted: true })
    // Many later trips that showed shares to other sites: the list holds only newer shares.
    setRecord({ v: Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(16, '0')) })
    pageshow()
    expect(shareOf()).not.toBe(s1)
    expect([store.get('k'), errors]).toEqual(['v', []])
    expect(record()!.v).toContain(tagOf(shareOf()))
  })

  it('control: a share the record still vouches for is kept', async () => {
    await open()
    const s1 = shareOf()
    fire('pagehide', { persisted: true })
    pageshow()
    expect(shareOf()).toBe(s1)
  })
})

describe('the record gone or refused: behind, told', () => {
  it('back from the cache after an app cleared localStorage (a logout): the keys go, told (unrecorded)', async () => {
    const { store, errors, events } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    localStorage.clear()
    pageshow()
    expect([store.size, errors, events.at(-1)]).toEqual([0, ['unrecorded'], 'cleared:other-page:1'])
    // Its empty state is written down again: the next page of the tab starts from it.
    expect(record()).toMatchObject({ n: 0, w: 'live' })
  })

  it('control: back from the cache with the record in place keeps the keys', async () => {
    const { store, errors } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    pageshow()
    expect([store.get('k'), errors]).toEqual(['v', []])
  })

  it('a fresh page finding a seal whose record is gone drops it, told; with no seal, told too', async () => {
    const first = await open()
    first.store.set('k', 'v')
    leave()
    localStorage.clear()
    const second = await open()
    expect([second.store.size, second.errors, sessionStorage.getItem(SEALED)]).toEqual([0, ['unrecorded'], null])
    leave()
    localStorage.clear()
    expect((await open()).errors).toEqual(['unrecorded'])
  })

  it('a record write storage refuses (full) leaves no record behind: a page back from the cache does not take an older state for the latest', async () => {
    const { store, errors } = await open()
    store.set('k', 'v1')
    refusing(
      localStorage,
      (key, value) => value.length > 10 && key.startsWith('tab-keystore/tab/'),
      () => {
        store.set('k', 'v2')
        store.set('other', 'x')
        pageswap({ navigationType: 'traverse' })
        fire('pagehide', { persisted: true })
      },
    )
    expect(record()).toBeUndefined()
    pageshow()
    expect([store.size, errors.at(-1)]).toEqual([0, 'unrecorded'])
  })

  it('a live page whose record write is refused says so (quota)', async () => {
    const { store, errors } = await open()
    await refusing(
      localStorage,
      () => true,
      async () => {
        store.set('k', 'v')
        await Promise.resolve()
      },
    )
    expect([errors, record()]).toEqual([['quota'], undefined])
  })
})

describe('a logout holds whenever it is called', () => {
  const logouts = {
    clear: (store: { clear(): void }) => store.clear(),
    delete: (store: { delete(name: string): boolean }) => void store.delete('k'),
  }
  for (const [how, logout] of Object.entries(logouts)) {
    it(`${how}() in a pagehide listener added after the store's, before a reload or a link: the next page does not get the key back`, async () => {
      const { store } = await open()
      store.set('k', 'v')
      store.set('kept', 'w')
      window.addEventListener('pagehide', () => logout(store))
      leave()
      const next = await open()
      expect([next.store.has('k'), next.store.has('kept'), next.errors]).toEqual([false, how === 'delete', []])
    })
  }

  it('clear() in a pagehide listener on the way into the cache (a traversal): the record says empty', async () => {
    const { store } = await open()
    store.set('k', 'v')
    pageswap({ navigationType: 'traverse' })
    window.addEventListener('pagehide', () => store.clear())
    fire('pagehide', { persisted: true })
    await Promise.resolve()
    expect(record()).toMatchObject({ n: 0 })
    expect(record()!.s).toBeUndefined()
  })

  it("clear() in a pageswap listener after the store's (a traversal, Chromium): sealed again before the restored page can take it", async () => {
    const { store } = await open()
    store.set('k', 'v')
    window.addEventListener('pageswap', () => store.clear())
    pageswap({ navigationType: 'traverse' })
    await Promise.resolve()
    expect(record()).toMatchObject({ n: 0 })
  })

  it('clear() in a pagehide listener leaving for another origin: the next page is not told of keys that were logged out of', async () => {
    const nav = fakeNavigation(null, ['a'])
    const { store } = await open()
    store.set('k', 'v')
    window.addEventListener('pagehide', () => store.clear())
    nav.navigate('https://elsewhere.example/')
    leave()
    vi.unstubAllGlobals()
    expect((await open()).errors).toEqual([])
  })

  it('clear() in the pagehide of the page Chromium left after showing the restored one: heard through the storage event, the keys go', async () => {
    const { store, events } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    pageshow()
    // The page it left, in its pagehide (after this pageshow in Chromium), logs out: the record says empty.
    setRecord({ g: '00000000000000e1', n: 0, w: 'live' })
    recordWritten()
    expect([store.size, events.at(-1)]).toEqual([0, 'cleared:other-page:1'])
    expect(record()).toMatchObject({ g: '00000000000000e1', n: 0, w: 'live' })
  })

  it('the storage event says what the other page wrote, where Chromium shows this page a stale localStorage (after a large write): that counts', async () => {
    const { store, events } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    pageshow()
    // localStorage as this page reads it still names this page's generation; the event does not.
    recordWritten(JSON.stringify({ ...record(), g: '00000000000000e1', n: 0, w: 'live', t: Date.now() + 1 }))
    expect([store.size, events.at(-1)]).toEqual([0, 'cleared:other-page:1'])
  })

  it('control: a write older than the record this page read on return (a storage event Chromium queued while it sat in the cache) does not count', async () => {
    const { store } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    const read = record()!.t as number
    pageshow()
    recordWritten(JSON.stringify({ ...record(), g: '00000000000000e1', n: 0, w: 'live', t: read - 1 }))
    expect(store.get('k')).toBe('v')
  })

  it('control: the same write long after the return (a duplicated tab sharing the record) does not touch the page shown', async () => {
    const { store } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    pageshow()
    setRecord({ g: '00000000000000e1', n: 0, w: 'live' })
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 10_000)
    recordWritten()
    fire('storage', { key: 'something-else', newValue: JSON.stringify(record()) })
    expect(store.get('k')).toBe('v')
  })

  it('control: a change before the page leaves is sealed as usual', async () => {
    const { store } = await open()
    store.set('k', 'v')
    store.delete('k')
    leave()
    expect(sessionStorage.getItem(SEALED)).toBeNull()
    expect((await open()).store.size).toBe(0)
  })
})

describe('small things read in the code', () => {
  it("the corrupt event does not carry the parser's error, which quotes the plaintext", async () => {
    const first = await open()
    first.store.set('k', 'v')
    leave()
    // An authentic seal whose plaintext is not the library's format.
    const junk = new TextEncoder().encode('\u0000\u0000\u0000\u0020["SECRET-in-the-plaintext", oops')
    const gen = record()!.g as string
    sessionStorage.setItem(SEALED, seal(junk, readShare('app') as Uint8Array, 'app', context(gen)))
    vi.resetModules()
    const { SessionKeystore } = await import('../../src/index')
    const store = new SessionKeystore({ name: 'app' })
    const payloads: unknown[] = []
    store.on('error', (payload) => payloads.push(payload))
    await Promise.resolve()
    expect(payloads).toEqual([{ reason: 'corrupt' }])
    expect(JSON.stringify(payloads) + String((payloads[0] as { error?: unknown }).error)).not.toContain('SECRET')
    store.destroy()
  })

  it('a key expired but not yet swept (its timer late) does not count: the next page is not told of a loss', async () => {
    const first = await open()
    first.store.set('k', 'v', Date.now() + 1000)
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 5000)
    leave()
    expect(record()).toMatchObject({ n: 0 })
    vi.restoreAllMocks()
    expect((await open()).errors).toEqual([])
  })
})
