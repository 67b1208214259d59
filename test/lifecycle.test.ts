import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { SessionKeystore as Keystore, ErrorEvent } from '../src/index'

// happy-dom has no real reload: a "page" here is a fresh copy of the module with the
// previous page's window listeners removed, and leaving is a hand-dispatched `pagehide`.
// This checks the protocol; e2e/ proves the behaviour in Chromium.
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
  it('restores strings, bytes and expiry times, then leaves no sealed entry and a fresh S1', async () => {
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
    expect(shareOf()).toMatch(/^[0-9a-f]{64}$/)
    expect(shareOf()).not.toBe(s1Before)
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
    envelope[0] = 2
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

  it('a page restored from the cache keeps its keys and wipes every sealed entry, even one written later', async () => {
    vi.useFakeTimers()
    const { store } = await open()
    store.set('k', 'v')
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }))
    expect(sessionStorage.getItem('tab-keystore:app')).not.toBeNull()
    const s1 = shareOf()
    pageshow(true)
    expect(sessionStorage.getItem('tab-keystore:app')).toBeNull()
    expect(shareOf()).not.toBe(s1)
    // The departing page's pagehide runs after our pageshow (measured in Chromium).
    sessionStorage.setItem('tab-keystore:app', 'sealed by the departing page')
    vi.advanceTimersByTime(1500)
    expect(sessionStorage.getItem('tab-keystore:app')).toBeNull()
    expect(store.get('k')).toBe('v')
  })

  it('a sealed entry announced by a storage event is wiped at once', async () => {
    await open()
    sessionStorage.setItem('tab-keystore:app', 'stale')
    window.dispatchEvent(Object.assign(new Event('storage'), { key: 'tab-keystore:app', newValue: 'stale' }))
    expect(sessionStorage.getItem('tab-keystore:app')).toBeNull()
  })

  it('keys cleared by a later page of the tab do not come back', async () => {
    const { store } = await open()
    store.set('k', 'v')
    const deleted: string[] = []
    store.on('deleted', ({ name }) => deleted.push(name))
    // Later page (B) of the same tab logs out: it writes the clear marker.
    const marker = 'tab-keystore:app#cleared'
    sessionStorage.setItem(marker, 'cleared-by-B')
    expect(sessionStorage.getItem(marker)).not.toContain('v')
    pageshow(true)
    expect(store.size).toBe(0)
    expect(deleted).toEqual(['k'])
  })

  it('clear() writes a marker that holds nothing secret; an unchanged marker keeps the keys', async () => {
    const { store } = await open()
    store.set('k', 'secret-value')
    store.clear()
    const marker = sessionStorage.getItem('tab-keystore:app#cleared')
    expect(marker).toMatch(/^\d+-[0-9a-z]+$/)
    store.set('k', 'secret-value')
    pageshow(true)
    expect(store.get('k')).toBe('secret-value')
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
