import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SessionKeystore as Keystore, KeystoreErrorEvent as ErrorEvent } from '../src/index'
import { type StateMeta, encodeEntries } from '../src/encoding'
import { recordEvents } from './helpers'

// happy-dom has no real reload: a "page" here is a fresh copy of the module with the
// previous page's window listeners removed, and leaving is a hand-dispatched `pagehide`.
// This checks the protocol; e2e/ proves the behaviour in Chromium, Firefox and WebKit.
let pageListeners: [string, EventListenerOrEventListenerObject][] = []
let stores: Keystore[] = []

beforeEach(() => {
  const add = window.addEventListener.bind(window)
  vi.spyOn(window, 'addEventListener').mockImplementation((type: string, listener: EventListenerOrEventListenerObject) => {
    pageListeners.push([type, listener])
    add(type, listener)
  })
  window.name = ''
  sessionStorage.clear()
  localStorage.clear()
})

afterEach(() => {
  for (const store of stores) store.destroy()
  leavePage({ dispatch: false })
  vi.restoreAllMocks()
  vi.useRealTimers()
})

async function newPage(): Promise<typeof import('../src/index')> {
  vi.resetModules()
  return import('../src/index')
}

/** Leaves the page as the browser does: `pagehide`, then the document is gone. */
function leavePage({ dispatch = true, persisted = false } = {}): void {
  if (dispatch) window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted }))
  for (const [type, listener] of pageListeners) window.removeEventListener(type, listener)
  pageListeners = []
  stores = []
}

async function open(name = 'app'): Promise<{ store: Keystore; errors: ErrorEvent[]; events: string[] }> {
  const { SessionKeystore } = await newPage()
  const store = new SessionKeystore({ name })
  stores.push(store)
  const errors: ErrorEvent[] = []
  const events: string[] = []
  store.on('error', (e) => errors.push(e))
  store.on('restored', ({ count, expired }) => events.push(`restored:${count}/${expired}`))
  store.on('expired', ({ name: key }) => events.push(`expired:${key}`))
  store.on('persisted', ({ count }) => events.push(`persisted:${count}`))
  await Promise.resolve() // restore events are delivered in a microtask after construction
  return { store, errors, events }
}

const shareOf = (name = 'app'): string => JSON.parse(window.name)[`tab-keystore:${name}`]

describe('reload', () => {
  it('restores strings, bytes and expiry times, then leaves no sealed entry; S1 stays for the tab', async () => {
    const first = await open()
    const until = Date.now() + 60_000
    first.store.set('token', 'secret-token', until)
    first.store.set('key', new Uint8Array([1, 2, 3]))
    const s1Before = shareOf()
    leavePage()
    expect(first.events).toEqual(['persisted:2'])
    expect(sessionStorage.getItem('tab-keystore:app')).not.toBeNull()

    const second = await open()
    expect(second.errors).toEqual([])
    expect(second.events).toEqual(['restored:2/0'])
    expect(second.store.get('token')).toBe('secret-token')
    expect(second.store.get('key')).toEqual(new Uint8Array([1, 2, 3]))
    expect(second.store.expiresAt('token')).toEqual(new Date(until))
    expect(sessionStorage.length).toBe(0)
    expect(Object.keys(JSON.parse(window.name))).toEqual(['tab-keystore:app'])
    expect(shareOf()).toBe(s1Before)
  })

  it('drops keys that expired while away, with expired events delivered after construction', async () => {
    const first = await open()
    const now = Date.now()
    first.store.set('short', 'v', now + 1000)
    first.store.set('long', 'v', now + 60_000)
    leavePage()
    vi.spyOn(Date, 'now').mockReturnValue(now + 5000)
    const second = await open()
    expect(second.events).toEqual(['expired:short', 'restored:1/1'])
    expect(second.store.keys()).toEqual(['long'])
  })

  it('restores several stores independently', async () => {
    const { SessionKeystore } = await newPage()
    const a = new SessionKeystore({ name: 'a' })
    const b = new SessionKeystore({ name: 'b' })
    a.set('k', 'from a')
    b.set('k', 'from b')
    leavePage()
    const { SessionKeystore: Next } = await newPage()
    const a2 = new Next({ name: 'a' })
    const b2 = new Next({ name: 'b' })
    stores.push(a2, b2)
    expect(a2.get('k')).toBe('from a')
    expect(b2.get('k')).toBe('from b')
  })

  it('an empty store leaves nothing in sessionStorage', async () => {
    const first = await open()
    first.store.set('k', 'v')
    first.store.delete('k')
    leavePage()
    expect(sessionStorage.length).toBe(0)
  })

  it('persist() seals at once, and the next page restores it', async () => {
    const first = await open()
    first.store.set('k', 'v')
    first.store.persist()
    expect(first.events).toEqual(['persisted:1'])
    leavePage({ dispatch: false }) // e.g. the tab was navigated without a pagehide reaching us
    const second = await open()
    expect(second.store.get('k')).toBe('v')
  })

  it('a fresh tab (no shares at all) starts empty with no error and no restored event', async () => {
    const { store, errors, events } = await open()
    expect(store.size).toBe(0)
    expect(errors).toEqual([])
    expect(events).toEqual([])
  })

  it('destroy() leaves nothing for the next page', async () => {
    const first = await open()
    first.store.set('k', 'v')
    first.store.persist()
    first.store.destroy()
    expect(sessionStorage.length).toBe(0)
    expect(window.name).toBe('')
    leavePage()
    const second = await open()
    expect(second.store.size).toBe(0)
  })
})

describe('tampering and junk: the store starts empty, says why, and never throws', () => {
  async function sealOne(): Promise<void> {
    const first = await open()
    first.store.set('k', 'secret')
    leavePage()
  }

  it('one bit flipped in S1 (window.name)', async () => {
    await sealOne()
    const share = shareOf()
    const flipped = (parseInt(share[0]!, 16) ^ 1).toString(16) + share.slice(1)
    window.name = JSON.stringify({ 'tab-keystore:app': flipped })
    const { store, errors } = await open()
    expect(store.size).toBe(0)
    expect(errors.map((e) => e.reason)).toEqual(['tampered'])
    expect(sessionStorage.length).toBe(0)
  })

  it('one bit flipped in the sealed entry (sessionStorage)', async () => {
    await sealOne()
    const text = sessionStorage.getItem('tab-keystore:app')!
    const i = Math.floor(text.length / 2)
    sessionStorage.setItem('tab-keystore:app', text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1))
    const { store, errors } = await open()
    expect(store.size).toBe(0)
    expect(errors.map((e) => e.reason)).toEqual(['tampered'])
    expect(sessionStorage.length).toBe(0)
  })

  it('S1 missing, replaced by a foreign string or a foreign value', async () => {
    const cases: [string, string][] = [
      ['', 'missing-share'],
      ['a-window-name', 'missing-share'],
      [JSON.stringify({ 'tab-keystore:app': 'nothex' }), 'tampered'],
      [JSON.stringify({ 'tab-keystore:app': { evil: true } }), 'tampered'],
    ]
    for (const [name, reason] of cases) {
      await sealOne()
      window.name = name
      const { store, errors } = await open()
      expect(store.size, name).toBe(0)
      expect(errors.map((e) => e.reason), name).toEqual([reason])
      leavePage({ dispatch: false })
      for (const s of stores) s.destroy()
    }
  })

  it('fuzz: random sealed entries and random shares never throw nor restore anything', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 100 }), fc.uint8Array({ maxLength: 300 }).map((b) => String.fromCharCode(...b))),
        fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), fc.constant('')),
        async (entry, share) => {
          sessionStorage.setItem('tab-keystore:app', entry)
          window.name = JSON.stringify({ 'tab-keystore:app': share.toLowerCase() })
          const { store, errors } = await open()
          expect(store.size).toBe(0)
          expect(errors).toHaveLength(1)
          expect(sessionStorage.getItem('tab-keystore:app')).toBeNull()
          store.destroy()
          leavePage({ dispatch: false })
        },
      ),
      { numRuns: 60 },
    )
  })

  it('an entry sealed by another format version is reported as unsupported-version', async () => {
    const { pack, unpack } = await import('../src/seal')
    await sealOne()
    const envelope = unpack(sessionStorage.getItem('tab-keystore:app')!)!
    envelope[0] = 3
    sessionStorage.setItem('tab-keystore:app', pack(envelope))
    const { store, errors } = await open()
    expect(store.size).toBe(0)
    expect(errors.map((e) => e.reason)).toEqual(['unsupported-version'])
  })

  it('a sealed entry of one store cannot be opened as another', async () => {
    await sealOne()
    const other = sessionStorage.getItem('tab-keystore:app')!
    sessionStorage.setItem('tab-keystore:other', other)
    window.name = JSON.stringify({ 'tab-keystore:other': shareOf() })
    const { store, errors } = await open('other')
    expect(store.size).toBe(0)
    expect(errors.map((e) => e.reason)).toEqual(['tampered'])
  })
})

describe('storage trouble', () => {
  it('sessionStorage unavailable (sandboxed frame, storage disabled): memory only, reported', async () => {
    vi.spyOn(window, 'sessionStorage', 'get').mockImplementation(() => {
      throw new DOMException('The document is sandboxed', 'SecurityError')
    })
    const { store, errors } = await open()
    expect(errors.map((e) => e.reason)).toEqual(['storage-unavailable'])
    store.set('k', 'v')
    expect(store.get('k')).toBe('v')
    expect(window.name).toBe('') // no share is written when nothing can be sealed
    expect(() => leavePage()).not.toThrow()
  })

  it('a full sessionStorage is reported from pagehide, nothing escapes the handler', async () => {
    const { store, errors } = await open()
    store.set('k', 'v')
    // By hand: happy-dom's Storage proxy cannot delete an own property, so a vi.spyOn
    // would outlive the test.
    const setItem = sessionStorage.setItem.bind(sessionStorage)
    const replace = (value: unknown): void =>
      void Object.defineProperty(sessionStorage, 'setItem', { value, configurable: true, writable: true })
    replace(() => {
      throw new DOMException('full', 'QuotaExceededError')
    })
    try {
      expect(() => window.dispatchEvent(new Event('pagehide'))).not.toThrow()
    } finally {
      replace(setItem)
    }
    expect(errors.map((e) => e.reason)).toEqual(['quota'])
    expect(store.get('k')).toBe('v')
  })
})

describe('back/forward cache', () => {
  const pageshow = (persisted: boolean): boolean =>
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted }))
  const pageswap = (activation: { navigationType: string } | null): boolean =>
    window.dispatchEvent(Object.assign(new Event('pageswap'), { activation }))

  /** A state as a later page of this tab leaves it for a history traversal. */
  async function laterState(entries: [string, string][], meta: Partial<StateMeta> = {}): Promise<{ text: string; slot: string }> {
    const { seal, readShare, tabId } = await import('../src/seal')
    const s1 = readShare('app')!
    const map = new Map(entries.map(([name, value]) => [name, { value, expiresAt: Infinity }]))
    const text = seal(encodeEntries(map, Date.now(), { epoch: '', lastActive: Date.now(), ...meta }).bytes, s1, 'app', '')
    return { text, slot: `tab-keystore/back/${tabId(s1)}/app` }
  }

  it('back from the cache, a page takes the state the later page left in the tab slot, told as changes', async () => {
    const { store, errors } = await open()
    store.set('k', 'v1')
    store.set('gone', 'deleted later')
    const log = recordEvents(store as never)
    const restored: string[] = []
    store.on('restored', ({ count, source }) => restored.push(`${source}:${count}`))
    const { text, slot } = await laterState([['k', 'v2'], ['new', 'added later']])
    localStorage.setItem(slot, `${Date.now()}:${text}`)
    pageshow(true)
    expect([store.get('k'), store.get('new'), store.has('gone')]).toEqual(['v2', 'added later', false])
    expect(log.filter((e) => !e.startsWith('read'))).toEqual(['deleted:gone', 'updated:k', 'created:new'])
    expect(restored).toEqual(['history:2'])
    expect(localStorage.getItem(slot)).toBeNull()
    expect(errors).toEqual([])
  })

  it('in Chromium the later page writes after our pageshow: a storage event soon after the return brings it, later ones are ignored', async () => {
    vi.useFakeTimers()
    const { store } = await open()
    store.set('k', 'v1')
    pageshow(true)
    const { text, slot } = await laterState([['k', 'v2']])
    localStorage.setItem(slot, `${Date.now()}:${text}`)
    window.dispatchEvent(Object.assign(new Event('storage'), { key: slot, newValue: 'x' }))
    expect(store.get('k')).toBe('v2')
    vi.advanceTimersByTime(5000)
    const late = await laterState([['k', 'v3']])
    localStorage.setItem(slot, `${Date.now()}:${late.text}`)
    window.dispatchEvent(Object.assign(new Event('storage'), { key: slot, newValue: 'x' }))
    expect(store.get('k')).toBe('v2')
  })

  it('a newer state that cannot be opened makes the page drop its own stale keys, and say so', async () => {
    const { store, errors } = await open()
    store.set('k', 'v1')
    const { slot } = await laterState([])
    localStorage.setItem(slot, `${Date.now()}:junk`)
    pageshow(true)
    expect(store.size).toBe(0)
    expect(errors.map((e) => e.reason)).toEqual(['stale'])
  })

  it('its own seal from when it left is not taken for a newer one (Firefox shows it the storage as it left it)', async () => {
    const { store, errors, events } = await open()
    store.set('k', 'v1')
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }))
    expect(sessionStorage.getItem('tab-keystore:app')).not.toBeNull()
    events.length = 0
    pageshow(true)
    expect(store.get('k')).toBe('v1')
    expect(sessionStorage.getItem('tab-keystore:app')).toBeNull()
    expect([errors, events]).toEqual([[], []]) // no restored event: nothing newer was there
  })

  it('a traversal seals at pageswap into the tab slot in localStorage, even an empty store; another origin gets only a marker', async () => {
    const { store } = await open()
    const { slot } = await laterState([])
    pageswap({ navigationType: 'traverse' })
    // Sealed already at pageswap: Chromium shows the restored page before this one's pagehide.
    expect(localStorage.getItem(slot)).toMatch(/^\d+:./)
    localStorage.removeItem(slot)
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }))
    expect(localStorage.getItem(slot)).toBeNull() // nothing changed since: not sealed again
    expect(sessionStorage.getItem('tab-keystore:app')).toBeNull()
    pageshow(true)
    store.set('k', 'v')
    pageswap(null) // leaving for another origin
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }))
    expect([localStorage.getItem(slot), sessionStorage.getItem('tab-keystore:app')]).toEqual([null, '']) // only the empty marker
    pageshow(true)
    expect(store.get('k')).toBe('v') // the keys crossed the trip in memory; its own marker is not a newer state
  })

  it('a traversal that changes the store after pageswap seals again in pagehide', async () => {
    const { store } = await open()
    const { slot } = await laterState([])
    store.set('k', 'before')
    pageswap({ navigationType: 'traverse' })
    const atSwap = localStorage.getItem(slot)
    store.set('k', 'after') // e.g. an app's own pagehide handler
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }))
    expect(localStorage.getItem(slot)).not.toBe(atSwap)
  })

  it('a later page that left for another origin with keys makes a page restored after it drop its outdated copy', async () => {
    const { store, errors } = await open()
    store.set('k', 'v1 (outdated: the later page changed it, then left for another site)')
    sessionStorage.setItem('tab-keystore:app', '') // the later page's marker
    pageshow(true)
    expect([store.size, errors.map((e) => e.reason)]).toEqual([0, ['stale']])
  })

  it('keys cleared by a later page of the tab do not come back (marker in localStorage, keyed by the tab)', async () => {
    const { store } = await open()
    store.set('k', 'v')
    const cleared: string[] = []
    store.on('cleared', ({ reason }) => cleared.push(reason))
    const { tabId, readShare } = await import('../src/seal')
    localStorage.setItem(`tab-keystore/cleared/${tabId(readShare('app')!)}/app`, `${Date.now()}-byB`)
    pageshow(true)
    expect(store.size).toBe(0)
    expect(cleared).toEqual(['other-page'])
  })

  it('clear() writes a marker that holds nothing secret; an unchanged marker keeps the keys', async () => {
    const { store } = await open()
    store.set('k', 'secret-value')
    store.clear()
    const markers = Object.keys(localStorage).filter((k) => k.startsWith('tab-keystore/cleared/'))
    expect(markers).toHaveLength(1)
    expect(localStorage.getItem(markers[0]!)).toMatch(/^\d+-[0-9a-z]+$/)
    store.set('k', 'secret-value')
    pageshow(true)
    expect(store.get('k')).toBe('secret-value')
  })

  it('a logout everywhere seen on return drops the keys', async () => {
    const { store } = await open()
    store.set('k', 'v')
    const cleared: string[] = []
    store.on('cleared', ({ reason }) => cleared.push(reason))
    localStorage.setItem('tab-keystore/logout/app', 'logged-out-elsewhere')
    pageshow(true)
    expect([store.size, cleared]).toEqual([0, ['other-tab']])
  })

  it('S1 is written again, unchanged, on every return (WebKit clears window.name, Chromium keeps a stale view)', async () => {
    await open()
    const s1 = shareOf()
    window.name = ''
    pageshow(true)
    expect(shareOf()).toBe(s1)
  })

  it('a normal pageshow (not from the cache) changes nothing', async () => {
    const { store } = await open()
    store.set('k', 'v')
    const s1 = shareOf()
    pageshow(false)
    expect(shareOf()).toBe(s1)
    expect(store.get('k')).toBe('v')
  })
})

describe('review findings', () => {
  it('after persist(), a delete, a clear or the idle clear do not leave the older sealed state behind (a crash reloads it)', async () => {
    vi.useFakeTimers()
    const first = await open()
    first.store.set('a', '1')
    first.store.set('b', '2')
    first.store.persist()
    first.store.delete('a')
    await Promise.resolve()
    leavePage({ dispatch: false }) // a crash: no pagehide
    const second = await open()
    expect(second.store.keys()).toEqual(['b'])
    second.store.persist()
    second.store.clear()
    leavePage({ dispatch: false })
    const third = await open()
    expect(third.store.keys()).toEqual([])
  })

  it('time away counts towards idleTimeout: the last activity travels with the sealed state', async () => {
    const { SessionKeystore } = await newPage()
    const first = new SessionKeystore({ name: 'app', idleTimeout: 60_000 })
    first.set('k', 'v')
    leavePage()
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000)
    const { SessionKeystore: Next } = await newPage()
    const second = new Next({ name: 'app', idleTimeout: 60_000 })
    stores.push(second)
    const log: string[] = []
    second.on('cleared', ({ reason, count }) => log.push(`cleared:${reason}:${count}`))
    second.on('restored', ({ count }) => log.push(`restored:${count}`))
    await Promise.resolve()
    expect(second.keys()).toEqual([])
    expect(log).toEqual(['cleared:idle:1', 'restored:0'])
  })

  it('a load does not accept keys sealed before a logout everywhere', async () => {
    const first = await open()
    first.store.set('k', 'v')
    leavePage()
    localStorage.setItem('tab-keystore/logout/app', 'logged-out-elsewhere')
    const second = await open()
    expect(second.store.keys()).toEqual([])
  })

  it('nothing in window.name breaks the store: deep, huge or odd values', async () => {
    for (const name of [`{"a":${'['.repeat(9000)}${']'.repeat(9000)}}`, JSON.stringify({ junk: 'x'.repeat(30_000_000) }), '{"tab-keystore:app":{"deep":[[[[1]]]]}}']) {
      window.name = name
      const { store, errors } = await open()
      store.set('k', 'v')
      expect(() => store.destroy()).not.toThrow()
      expect(window.name.length, 'junk is not carried').toBeLessThan(1000)
      leavePage({ dispatch: false })
      expect(errors).toEqual([])
    }
  })

  describe('with the Navigation API (Chromium, Firefox)', () => {
    /** A page whose current entry is the last of `history` (its same-origin history), arrived from `from`. */
    const fakeNavigation = (from: string | null, history: string[]) =>
      vi.stubGlobal('navigation', {
        currentEntry: { key: history.at(-1) },
        activation: { from: from === null ? null : { key: from } },
        entries: () => history.map((key) => ({ key })),
        addEventListener() {},
        removeEventListener() {},
      })
    afterEach(() => vi.unstubAllGlobals())

    it('a seal opens only in the same-origin history of the entry that sealed it, detours included', async () => {
      fakeNavigation(null, ['a'])
      const first = await open()
      first.store.set('k', 'v')
      leavePage()
      fakeNavigation('a', ['a', 'b'])
      const second = await open()
      expect(second.store.get('k')).toBe('v')
      leavePage()
      fakeNavigation('c', ['a', 'b', 'c', 'd']) // through a page of this origin without the store
      const third = await open()
      expect(third.store.get('k')).toBe('v')
      leavePage()
      fakeNavigation('d', ['e']) // crash-reload: a new entry, the old one named in activation.from
      expect((await open()).store.get('k')).toBe('v')
      leavePage()
      fakeNavigation('x', ['f']) // another history altogether
      const last = await open()
      expect([last.store.size, last.errors.map((e) => e.reason)]).toEqual([0, ['left-origin']])
    })

    it('a window another site opened, or a return through another origin, finds a seal and opens nothing', async () => {
      fakeNavigation(null, ['a'])
      const first = await open()
      first.store.set('k', 'v')
      leavePage()
      fakeNavigation(null, ['entry-of-the-fork'])
      const fork = await open()
      expect([fork.store.size, fork.errors.map((e) => e.reason)]).toEqual([0, ['left-origin']])
      expect(sessionStorage.length).toBe(0)
    })
  })
})

describe('store names never collide with the library\'s own keys', () => {
  it('a store named "app#cleared" does not disturb store "app", whatever the order', async () => {
    for (const names of [['app', 'app#cleared'], ['app#cleared', 'app'], ['app', 'app/back']]) {
      const { SessionKeystore } = await newPage()
      for (const name of names) stores.push(new SessionKeystore({ name }))
      for (const store of stores) store.set('k', `in ${store.name}`)
      leavePage()
      const { SessionKeystore: Next } = await newPage()
      const next = names.map((name) => new Next({ name }))
      stores.push(...next)
      window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
      expect(next.map((store) => store.get('k')), names.join(' + ')).toEqual(names.map((name) => `in ${name}`))
      leavePage({ dispatch: false })
      for (const store of next) store.destroy()
    }
  })
})

describe('leaving for another origin', () => {
  it('seals nothing, and a fresh load on the way back learns that keys were left (left-origin)', async () => {
    const first = await open()
    first.store.set('k', 'v')
    window.dispatchEvent(Object.assign(new Event('pageswap'), { activation: null }))
    leavePage()
    expect(sessionStorage.getItem('tab-keystore:app')).toBe('')
    const second = await open()
    expect([second.store.size, second.errors.map((e) => e.reason)]).toEqual([0, ['left-origin']])
    expect(sessionStorage.length).toBe(0)
  })

  it('Firefox has no pageswap: its navigate event is trusted for traversals only (a link may never navigate)', async () => {
    const listeners: ((event: unknown) => void)[] = []
    vi.stubGlobal('navigation', { currentEntry: { key: 'a' }, activation: { from: null }, entries: () => [{ key: 'a' }], addEventListener: (_: string, l: (event: unknown) => void) => listeners.push(l), removeEventListener() {} })
    const first = await open()
    first.store.set('k', 'v')
    const navigate = (url: string, navigationType: string): void => {
      for (const l of listeners) l({ destination: { url, sameDocument: false }, navigationType })
    }
    // A link to another origin leaves the marker at once (Firefox may cut pagehide short)...
    navigate('https://elsewhere.example/file.zip', 'push')
    expect(sessionStorage.getItem('tab-keystore:app')).toBe('')
    // ... and when it was a download (the page stays), a later reload still seals.
    window.dispatchEvent(new Event('pagehide'))
    expect(sessionStorage.getItem('tab-keystore:app')?.length).toBeGreaterThan(100)
    navigate('https://elsewhere.example/', 'traverse') // Back to another site: nothing sealed
    window.dispatchEvent(new Event('pagehide'))
    expect(sessionStorage.getItem('tab-keystore:app')).toBe('')
    leavePage({ dispatch: false })
    vi.unstubAllGlobals()
  })
})

describe('a store too large for storage', () => {
  it('the next page learns that keys were lost (a non-secret marker), rather than starting empty in silence', async () => {
    const first = await open()
    first.store.set('k', 'v')
    const setItem = sessionStorage.setItem.bind(sessionStorage)
    let refused = false
    Object.defineProperty(sessionStorage, 'setItem', {
      configurable: true,
      writable: true,
      value: (key: string, value: string) => {
        if (value.length > 100 && !refused) {
          refused = true
          throw new DOMException('full', 'QuotaExceededError')
        }
        setItem(key, value)
      },
    })
    try {
      leavePage()
    } finally {
      Object.defineProperty(sessionStorage, 'setItem', { configurable: true, writable: true, value: setItem })
    }
    expect(sessionStorage.getItem('tab-keystore:app')).toBe('!quota')
    const second = await open()
    expect([second.store.size, second.errors.map((e) => e.reason)]).toEqual([0, ['quota']])
    expect(sessionStorage.length).toBe(0)
  })
})

describe('review findings, second round', () => {
  const pageshow = (): boolean => window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))

  it('destroy() is for good also for pages of the tab in the back/forward cache', async () => {
    const { store } = await open()
    const { tabId, readShare } = await import('../src/seal')
    const marker = `tab-keystore/cleared/${tabId(readShare('app')!)}/app`
    const before = localStorage.getItem(marker)
    store.destroy()
    expect(localStorage.getItem(marker)).not.toBe(before)
  })

  it('after persist(), setting the same value with another expiry re-seals too', async () => {
    const first = await open()
    const far = Date.now() + 3_600_000
    first.store.set('k', 'v', far)
    first.store.persist()
    first.store.set('k', 'v', far - 1_000_000) // same value, shorter expiry
    await Promise.resolve()
    leavePage({ dispatch: false }) // a crash
    const second = await open()
    expect(second.store.expiresAt('k')?.getTime()).toBe(far - 1_000_000)
  })

  it("a clear() right after a return is not undone by the later page's state arriving after it", async () => {
    const { store } = await open()
    store.set('k', 'v1')
    pageshow()
    store.clear()
    const { seal, readShare } = await import('../src/seal')
    const { tabId } = await import('../src/seal')
    const s1 = readShare('app')!
    const late = seal(encodeEntries(new Map([['k', { value: 'v2', expiresAt: Infinity }]]), Date.now(), { epoch: '', lastActive: Date.now() }).bytes, s1, 'app', '')
    const slot = `tab-keystore/back/${tabId(s1)}/app`
    localStorage.setItem(slot, `${Date.now()}:${late}`)
    window.dispatchEvent(Object.assign(new Event('storage'), { key: slot, newValue: 'x' }))
    expect(store.keys()).toEqual([])
  })

  it('one cleared event per logout, none for an empty store', async () => {
    const { store } = await open()
    store.set('k', 'v')
    const cleared: string[] = []
    store.on('cleared', ({ reason, count }) => cleared.push(`${reason}:${count}`))
    const { tabId, readShare } = await import('../src/seal')
    // A later page of the tab logged out everywhere: both markers changed.
    localStorage.setItem('tab-keystore/logout/app', 'logged-out')
    localStorage.setItem(`tab-keystore/cleared/${tabId(readShare('app')!)}/app`, 'cleared')
    pageshow()
    expect(cleared).toEqual(['other-tab:1'])
  })
})

describe('idle time across the back/forward cache', () => {
  it('a page idle through its time in the cache clears on its return, once nothing newer came back', async () => {
    const { SessionKeystore } = await newPage()
    const store = new SessionKeystore({ name: 'app', idleTimeout: 60_000 })
    stores.push(store)
    store.set('k', 'v')
    const cleared: string[] = []
    store.on('cleared', ({ reason }) => cleared.push(reason))
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }))
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000)
    document.dispatchEvent(new Event('visibilitychange')) // fires before pageshow: no verdict yet
    expect(cleared).toEqual([])
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
    expect([cleared, store.size]).toEqual([['idle'], 0])
  })
})
