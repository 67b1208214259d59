import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { encodeEntries } from '../../src/encoding'
import { context } from '../../src/lifecycle/placement'
import { pack, seal, tag, unpack } from '../../src/seal'
import { readShare } from '../../src/share'
import {
  cleanUp,
  fakeNavigation,
  freshTabs,
  fire,
  leave,
  open,
  record,
  refusing,
  setRecord,
  shareOf,
  trackListeners,
} from './page'
import { idle } from '../../src/idle'

freshTabs()

const SEALED = 'tab-keystore:app'
/** A generation named for the reader: 16 hex digits, as the library makes them. */
const generation = (word: string): string => Buffer.from(word).toString('hex').padEnd(16, '0').slice(0, 16)
const pageshow = (): boolean => fire('pageshow', { persisted: true })
const pageswap = (activation: { navigationType: string } | null): boolean => fire('pageswap', { activation })

/** A state sealed as another page of the tab seals it for a traversal, into the record. */
function laterState(entries: [string, string][], gen = generation('later')): void {
  const map = new Map(entries.map(([name, value]) => [name, { value, expiresAt: Infinity }]))
  const text = seal(
    encodeEntries(map, Date.now(), { epoch: '', lastActive: Date.now() }).bytes,
    readShare('app') as Uint8Array,
    'app',
    context(gen),
  )
  setRecord({ g: gen, n: entries.length, w: 'slot', s: text })
}

describe('reload', () => {
  it('restores strings, bytes and expiry times; leaves no sealed state; S1 stays', async () => {
    const first = await open()
    const until = Date.now() + 60_000
    first.store.set('token', 'secret-token', until)
    first.store.set('key', new Uint8Array([1, 2, 3]))
    const s1 = shareOf()
    leave()
    expect(sessionStorage.getItem(SEALED)).not.toBeNull()
    expect(record()).toMatchObject({ n: 2, w: 'sealed' })

    const second = await open()
    expect(second.errors).toEqual([])
    expect(second.events).toEqual(['restored:reload:2'])
    expect([second.store.get('token'), second.store.get('key'), second.store.expiresAt('token')]).toEqual([
      'secret-token',
      new Uint8Array([1, 2, 3]),
      new Date(until),
    ])
    expect(sessionStorage.getItem(SEALED)).toBeNull()
    expect(record()).toMatchObject({ n: 2, w: 'live' })
    expect(shareOf()).toBe(s1)
  })

  it('an empty store seals nothing; a fresh tab starts empty with no error and no event', async () => {
    const first = await open()
    expect([first.store.size, first.errors, first.events]).toEqual([0, [], []])
    first.store.set('k', 'v')
    first.store.delete('k')
    leave()
    expect(sessionStorage.getItem(SEALED)).toBeNull()
    const second = await open()
    expect([second.errors, second.events]).toEqual([[], []])
  })

  it('persist() seals at once and after every change, so a crash (no pagehide) loses nothing and brings back nothing removed', async () => {
    const first = await open()
    first.store.set('a', '1')
    first.store.set('b', '2')
    first.store.persist()
    expect(record()).toMatchObject({ n: 2, w: 'sealed' })
    first.store.delete('a')
    await Promise.resolve()
    leave({ hide: false })
    const second = await open()
    expect([second.store.keys(), second.errors]).toEqual([['b'], []])
    second.store.persist()
    second.store.clear()
    await Promise.resolve()
    leave({ hide: false })
    const third = await open()
    expect([third.store.keys(), third.errors]).toEqual([[], []])
  })

  it('a crash with keys and nothing sealed is told to the next page (lost), not silent', async () => {
    const first = await open()
    first.store.set('k', 'v')
    await Promise.resolve()
    expect(record()).toMatchObject({ n: 1, w: 'live' })
    leave({ hide: false })
    const second = await open()
    expect([second.store.size, second.errors]).toEqual([0, ['lost']])
    // ... once: the next page holds the tab's (empty) latest state.
    leave()
    expect((await open()).errors).toEqual([])
  })

  it('destroy() leaves nothing sealed, no share, and an empty state of a new generation', async () => {
    const first = await open()
    first.store.set('k', 'v')
    first.store.persist()
    const gen = record()!.g
    first.store.destroy()
    expect([sessionStorage.getItem(SEALED), window.name]).toEqual([null, ''])
    expect(record()).toMatchObject({ n: 0 })
    expect(record()!.g).not.toBe(gen)
    leave()
    expect((await open()).store.size).toBe(0)
  })

  it("restores several stores independently, and store names never collide with the library's keys", async () => {
    for (const names of [
      ['a', 'b'],
      ['app', 'app#cleared'],
      ['app/tab', 'app'],
    ]) {
      vi.resetModules()
      const { SessionKeystore } = await import('../../src/index')
      const first = names.map((name) => new SessionKeystore({ name }))
      for (const store of first) store.set('k', `in ${store.name}`)
      leave()
      vi.resetModules()
      const { SessionKeystore: Next } = await import('../../src/index')
      const next = names.map((name) => new Next({ name }))
      pageshow()
      expect(
        next.map((store) => store.get('k')),
        names.join(' + '),
      ).toEqual(names.map((name) => `in ${name}`))
      for (const store of next) store.destroy()
      cleanUp()
      trackListeners()
    }
  })
})

describe('tampering and junk: the store starts empty, says why, and never throws', () => {
  async function sealOne(): Promise<void> {
    const first = await open()
    first.store.set('k', 'secret')
    leave()
  }

  it('one bit flipped in S1, or in the sealed state', async () => {
    await sealOne()
    const share = shareOf()
    window.name = JSON.stringify({ [SEALED]: (parseInt(share[0]!, 16) ^ 1).toString(16) + share.slice(1) })
    const a = await open()
    expect([a.store.size, a.errors, sessionStorage.getItem(SEALED)]).toEqual([0, ['tampered'], null])
    leave({ hide: false })
    cleanUp()
    await sealOne()
    const text = sessionStorage.getItem(SEALED)!
    const i = text.length >> 1
    sessionStorage.setItem(SEALED, text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1))
    const b = await open()
    expect([b.store.size, b.errors]).toEqual([0, ['tampered']])
  })

  it('S1 missing, or something else in its place', async () => {
    const cases: [string, string][] = [
      ['', 'missing-share'],
      ['a-window-name', 'missing-share'],
      [JSON.stringify({ [SEALED]: 'nothex' }), 'tampered'],
      [JSON.stringify({ [SEALED]: { evil: true } }), 'tampered'],
    ]
    for (const [name, reason] of cases) {
      await sealOne()
      window.name = name
      const { store, errors } = await open()
      expect([store.size, errors], name).toEqual([0, [reason]])
      cleanUp()
      trackListeners()
    }
  })

  it('another format version is unsupported-version', async () => {
    await sealOne()
    const envelope = unpack(sessionStorage.getItem(SEALED)!)!
    envelope[0] = 99
    sessionStorage.setItem(SEALED, pack(envelope))
    expect((await open()).errors).toEqual(['unsupported-version'])
  })

  it('fuzz: random sealed states and shares never throw nor restore anything', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 100 }),
          fc.uint8Array({ maxLength: 300 }).map((b) => String.fromCharCode(...b)),
        ),
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
          fc.constant(''),
        ),
        async (text, share) => {
          sessionStorage.setItem(SEALED, text)
          window.name = JSON.stringify({ [SEALED]: share.toLowerCase() })
          const { store, errors } = await open()
          expect(store.size).toBe(0)
          expect(errors).toHaveLength(1)
          expect(sessionStorage.getItem(SEALED)).toBeNull()
          cleanUp()
          trackListeners()
        },
      ),
      { numRuns: 60 },
    )
  })

  it('a share planted in window.name is not trusted: the page seals under a fresh one', async () => {
    const first = await open()
    first.store.set('k', 'v')
    leave({ persisted: true })
    const planted = 'ab'.repeat(32)
    window.name = JSON.stringify({ [SEALED]: planted })
    const second = await open()
    expect(second.errors).toEqual(['tampered'])
    expect(shareOf()).not.toBe(planted)
  })

  it('nothing in window.name breaks the store: deep, huge or odd values', async () => {
    for (const name of [
      `{"a":${'['.repeat(9000)}${']'.repeat(9000)}}`,
      JSON.stringify({ junk: 'x'.repeat(30_000_000) }),
      '{"tab-keystore:app":{"deep":[[[[1]]]]}}',
    ]) {
      window.name = name
      const { store, errors } = await open()
      store.set('k', 'v')
      expect(() => store.destroy()).not.toThrow()
      expect(window.name.length, 'junk is not carried').toBeLessThan(1000)
      expect(errors).toEqual([])
      cleanUp()
      trackListeners()
    }
  })
})

describe('storage trouble', () => {
  it('sessionStorage unavailable (sandboxed frame, storage disabled): memory only, reported', async () => {
    vi.spyOn(window, 'sessionStorage', 'get').mockImplementation(() => {
      throw new DOMException('The document is sandboxed', 'SecurityError')
    })
    const { store, errors } = await open()
    expect(errors).toEqual(['storage-unavailable'])
    store.set('k', 'v')
    expect(store.get('k')).toBe('v')
    expect(window.name).toBe('')
    expect(() => leave()).not.toThrow()
  })

  it('a state too large for storage is reported, and the next page is told (quota), not left empty in silence', async () => {
    const first = await open()
    first.store.set('k', 'v')
    refusing(
      sessionStorage,
      (key) => key === SEALED,
      () => expect(() => leave()).not.toThrow(),
    )
    expect(first.errors).toEqual(['quota'])
    expect(record()).toMatchObject({ w: 'quota', n: 1 })
    const second = await open()
    expect([second.store.size, second.errors]).toEqual([0, ['quota']])
  })

  it("without localStorage no page could tell the tab's latest state from an older one: memory only, reported", async () => {
    vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError')
    })
    const first = await open()
    expect(first.errors).toEqual(['storage-unavailable'])
    first.store.set('k', 'v')
    leave()
    expect(sessionStorage.length).toBe(0)
    const second = await open()
    expect([second.store.get('k'), second.errors]).toEqual([null, ['storage-unavailable']])
  })
})

describe('a window another page opened', () => {
  it('has a copy of sessionStorage and no share: a new tab, which drops the copy unread', async () => {
    const first = await open()
    first.store.set('k', 'v')
    first.store.persist()
    const id = sessionStorage.getItem('tab-keystore/tab/app')
    leave({ hide: false })
    window.name = ''
    vi.spyOn(window, 'opener', 'get').mockReturnValue({} as Window)
    const popup = await open()
    expect([popup.store.size, popup.errors, popup.events]).toEqual([0, [], []])
    expect(sessionStorage.getItem(SEALED)).toBeNull()
    expect(sessionStorage.getItem('tab-keystore/tab/app')).not.toBe(id)
  })
})

describe('back/forward cache', () => {
  it('back having missed no change: keeps its keys, tells nothing, takes the slot back out of storage', async () => {
    const { store, events, errors } = await open()
    store.set('k', 'v')
    pageswap({ navigationType: 'traverse' })
    fire('pagehide', { persisted: true })
    expect(record()).toMatchObject({ w: 'slot' })
    events.length = 0
    pageshow()
    expect([store.get('k'), events, errors]).toEqual(['v', [], []])
    expect(record()).toMatchObject({ w: 'live', n: 1 })
    expect(record()!.s).toBeUndefined()
  })

  it('back having missed a change: takes the newer state sealed for the traversal, told as changes', async () => {
    const { store, events, errors } = await open()
    store.set('k', 'v1')
    store.set('gone', 'deleted later')
    await Promise.resolve()
    events.length = 0
    fire('pagehide', { persisted: true })
    laterState([
      ['k', 'v2'],
      ['new', 'added later'],
    ])
    pageshow()
    expect([store.get('k'), store.get('new'), store.has('gone')]).toEqual(['v2', 'added later', false])
    expect(events).toEqual(['deleted:gone', 'updated:k', 'created:new', 'restored:history:2'])
    expect(errors).toEqual([])
    expect(record()).toMatchObject({ g: generation('later'), w: 'live' })
  })

  it('no listener runs in the middle of a return: each hears the transition over (the record rewritten, the slot taken)', async () => {
    const { store } = await open()
    store.set('k', 'v1')
    await Promise.resolve()
    fire('pagehide', { persisted: true })
    laterState([['k', 'v2']])
    const seen: unknown[] = []
    store.on('updated', () => seen.push(record()?.w))
    store.on('restored', () => seen.push(record()?.w))
    pageshow()
    expect(seen).toEqual(['live', 'live'])
    // Control: the state the listeners heard was taken, from a slot.
    expect(store.get('k')).toBe('v2')
  })

  it('back having missed a change it cannot read (left with a page that went to another site): drops its keys, stale', async () => {
    const { store, errors, events } = await open()
    store.set('k', 'v1')
    fire('pagehide', { persisted: true })
    setRecord({ g: generation('newer'), n: 1, w: 'away' })
    pageshow()
    expect([store.size, errors, events.at(-1)]).toEqual([0, ['stale'], 'cleared:other-page:1'])
    // Its empty state is the tab's latest now, of a new generation: pages behind it drop too.
    expect(record()).toMatchObject({ n: 0 })
    expect(record()!.g).not.toBe(generation('newer'))
  })

  it("back when the tab's latest state is empty (a logout on a later page): drops its keys, no error", async () => {
    const { store, errors, events } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    setRecord({ g: generation('logged-out'), n: 0, w: 'live' })
    pageshow()
    expect([store.size, errors, events.at(-1)]).toEqual([0, [], 'cleared:other-page:1'])
    expect(record()).toMatchObject({ g: generation('logged-out') })
  })

  it('a newer state sealed under another share (another history) cannot be opened: stale', async () => {
    const { store, errors } = await open()
    store.set('k', 'v1')
    fire('pagehide', { persisted: true })
    laterState([['k', 'v2']])
    window.name = JSON.stringify({ [SEALED]: 'cd'.repeat(32) })
    const rewritten = record()!
    // Sealed under a share this page does not hold.
    const other = seal(
      encodeEntries(new Map(), Date.now(), { epoch: '', lastActive: 0 }).bytes,
      new Uint8Array(32).fill(7),
      'app',
      context(generation('later')),
    )
    setRecord({ ...rewritten, n: 1, s: other })
    pageshow()
    expect([store.size, errors]).toEqual([0, ['stale']])
  })

  it('a logout everywhere seen on return drops the keys', async () => {
    const { store, events } = await open()
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    localStorage.setItem('tab-keystore/logout/app', 'logged-out-elsewhere')
    pageshow()
    expect([store.size, events.at(-1)]).toEqual([0, 'cleared:other-tab:1'])
  })

  it('S1 is written again on every return (WebKit clears window.name, Chromium shows a stale view)', async () => {
    await open()
    const s1 = shareOf()
    fire('pagehide', { persisted: true })
    window.name = ''
    pageshow()
    expect(shareOf()).toBe(s1)
    fire('pageshow', { persisted: false }) // a normal pageshow changes nothing
    expect(shareOf()).toBe(s1)
  })

  it('a traversal seals at pageswap (Chromium shows the restored page first); a change after it seals again only while the slot is not taken', async () => {
    const { store } = await open()
    store.set('k', 'before')
    pageswap({ navigationType: 'traverse' })
    const atSwap = record()!.s
    expect(atSwap).toEqual(expect.any(String))
    store.set('k', 'after') // an app's own pagehide handler
    fire('pagehide', { persisted: true })
    expect(record()!.s).not.toBe(atSwap)
    pageshow()
    pageswap({ navigationType: 'traverse' })
    setRecord({ w: 'live', s: undefined }) // the restored page took it
    store.set('k', 'too late')
    fire('pagehide', { persisted: true })
    expect(record()).toMatchObject({ w: 'live' })
  })

  it('persist() keeps its promise across the cache: sealed again on return', async () => {
    const { store } = await open()
    store.set('k', 'v')
    store.persist()
    pageswap(null)
    fire('pagehide', { persisted: true })
    expect(sessionStorage.getItem(SEALED)).toBeNull() // nothing sealed while another origin is shown
    pageshow()
    expect(sessionStorage.getItem(SEALED)).not.toBeNull()
    expect(record()).toMatchObject({ w: 'sealed', n: 1 })
  })

  it("idle time spent in the cache is judged once back, after the tab's state is taken", async () => {
    const { store, events } = await open({ idle: idle(60_000) })
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000)
    fire('visibilitychange', {}, document) // fires before pageshow: no verdict yet
    expect(events.at(-1)).toBe('created:k')
    pageshow()
    expect([events.at(-1), store.size]).toEqual(['cleared:idle:1', 0])
  })

  it('the last activity on a later page of the tab counts: the record carries it', async () => {
    const { store, events } = await open({ idle: idle(60_000) })
    store.set('k', 'v')
    fire('pagehide', { persisted: true })
    const now = Date.now()
    setRecord({ a: now + 50_000 })
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000)
    pageshow()
    expect([events.at(-1), store.get('k')]).toEqual(['created:k', 'v'])
  })
})

describe('leaving for another origin', () => {
  it('pageswap without activation: nothing sealed, and a fresh load on the way back is told (left-origin)', async () => {
    const first = await open()
    first.store.set('k', 'v')
    first.store.persist()
    pageswap(null)
    leave()
    expect([sessionStorage.getItem(SEALED), record()!.w]).toEqual([null, 'away'])
    const second = await open()
    expect([second.store.size, second.errors]).toEqual([0, ['left-origin']])
  })

  it('with the share in window.name at that moment (Chromium shows it to the other origin), the page takes a fresh share once back', async () => {
    const { store } = await open()
    store.set('k', 'v')
    const before = shareOf()
    pageswap(null)
    fire('pagehide', { persisted: true })
    expect(record()!.v).not.toContain(tag(readShare('app') as Uint8Array))
    pageshow()
    expect(shareOf()).not.toBe(before)
    expect(store.get('k')).toBe('v')
    expect(record()!.k).toBe(tag(readShare('app') as Uint8Array))
  })

  it('an engine that cleared window.name for the other origin (WebKit) kept the share from it: no new share', async () => {
    await open()
    const before = shareOf()
    pageswap(null)
    fire('pagehide', { persisted: true })
    window.name = ''
    pageshow()
    expect(shareOf()).toBe(before)
    expect(record()!.v).toContain(tag(readShare('app') as Uint8Array))
  })

  it('a navigate event to another origin takes the share out of window.name first, and puts it back if the page stays', async () => {
    vi.useFakeTimers()
    const nav = fakeNavigation(null, ['a'])
    const { store } = await open()
    store.set('k', 'v')
    const s1 = shareOf()
    nav.navigate('https://elsewhere.example/')
    expect(window.name).toBe('')
    expect(record()).toMatchObject({ w: 'away' })
    vi.advanceTimersByTime(3000) // a 204, a slow answer: the page is still here
    expect([shareOf(), record()!.w]).toEqual([s1, 'live'])
    nav.navigate('https://elsewhere.example/file.zip').abort() // a download: Chromium aborts its signal
    expect(window.name).toBe('') // which engines do for other reasons too: only time tells
    vi.advanceTimersByTime(3000)
    expect(shareOf()).toBe(s1)
    nav.navigate('https://elsewhere.example/')
    fire('pagehide', { persisted: false })
    expect([window.name, sessionStorage.getItem(SEALED), record()!.w]).toEqual(['', null, 'away'])
    expect(record()!.v).toContain(tag(Uint8Array.from(Buffer.from(s1, 'hex')))) // the other origin never saw the share
  })

  it("an abort does not bring the share back: engines abort a navigation's signal when the next navigate fires, even one that leaves it under way", async () => {
    vi.useFakeTimers()
    const nav = fakeNavigation(null, ['a'])
    const { store } = await open()
    store.set('k', 'v')
    nav.navigate('https://elsewhere.example/one')
    nav.navigate(`${location.origin}/#section`, { sameDocument: true }) // a router's replaceState, a hash
    expect(window.name).toBe('')
    vi.advanceTimersByTime(2999)
    expect(window.name).toBe('')
    vi.advanceTimersByTime(1)
    expect(window.name).not.toBe('')
  })

  it('a navigation within the origin replaces one to another origin not yet under way: the next page has the keys', async () => {
    vi.useFakeTimers()
    const nav = fakeNavigation(null, ['a'])
    const { store } = await open()
    store.set('k', 'v')
    nav.navigate('https://elsewhere.example/')
    nav.navigate(`${location.origin}/next`)
    expect(record()).toMatchObject({ w: 'live' })
    leave()
    expect(record()).toMatchObject({ w: 'sealed' })
    fakeNavigation('a', ['a', 'b'])
    const next = await open()
    expect([next.store.get('k'), next.errors]).toEqual(['v', []])
  })

  it('a download or a navigation the app takes over within itself leaves the page as it was', async () => {
    const nav = fakeNavigation(null, ['a'])
    const { store } = await open()
    store.set('k', 'v')
    const s1 = shareOf()
    nav.navigate('https://elsewhere.example/report.pdf', { downloadRequest: 'report.pdf' })
    expect([shareOf(), record()!.w]).toEqual([s1, 'live'])
    nav.navigate(`${location.origin}/inbox`)
    nav.succeed()
    nav.navigate('https://elsewhere.example/')
    fire('pagehide', { persisted: false })
    expect([window.name, sessionStorage.getItem(SEALED), record()!.w]).toEqual(['', null, 'away'])
  })

  it('persist() while leaving for another origin seals nothing until the page stays', async () => {
    vi.useFakeTimers()
    const nav = fakeNavigation(null, ['a'])
    const { store } = await open()
    store.set('k', 'v')
    nav.navigate('https://elsewhere.example/')
    store.persist()
    expect(sessionStorage.getItem(SEALED)).toBeNull()
    vi.advanceTimersByTime(3000) // it stayed: persist() keeps its promise
    expect(record()).toMatchObject({ w: 'sealed' })
    expect(sessionStorage.getItem(SEALED)).not.toBeNull()
  })

  it("after pageswap no abort undoes the navigation: a traversal's late abort leaves the restored page's record alone (Chromium)", async () => {
    const nav = fakeNavigation(null, ['a', 'b'])
    const { store } = await open()
    store.set('k', 'v')
    const back = nav.navigate(`${location.origin}/a`, { navigationType: 'traverse' })
    pageswap({ navigationType: 'traverse' })
    expect(record()).toMatchObject({ w: 'slot' })
    // Chromium shows the restored page first: it drops what it could not open, a newer state.
    setRecord({ g: generation('restored'), n: 0, w: 'live', s: undefined })
    back.abort()
    fire('pagehide', { persisted: true })
    expect(record()).toMatchObject({ g: generation('restored'), n: 0 })
  })

  it('a navigate event within the origin leaves the share for the next page, and seals as usual', async () => {
    const nav = fakeNavigation(null, ['a'])
    const { store } = await open()
    store.set('k', 'v')
    nav.navigate(`${location.origin}/next`)
    leave()
    expect(record()).toMatchObject({ w: 'sealed' })
    fakeNavigation('a', ['a', 'b'])
    const next = await open()
    expect([next.store.get('k'), next.errors]).toEqual(['v', []])
  })
})

describe('with the Navigation API, a seal opens only in the same-origin history of the page that sealed it', () => {
  it('detours within the origin and crash-reloads open it; another history does not', async () => {
    fakeNavigation(null, ['a'])
    const first = await open()
    first.store.set('k', 'v')
    leave()
    fakeNavigation('c', ['a', 'b', 'c', 'd']) // through a page of this origin without the store
    expect((await open()).store.get('k')).toBe('v')
    leave()
    fakeNavigation('d', ['e']) // crash-reload: a new entry, the old one named in activation.from
    expect((await open()).store.get('k')).toBe('v')
    leave()
    fakeNavigation(null, ['fork']) // a window another site opened, or a return through another origin
    const last = await open()
    expect([last.store.size, last.errors]).toEqual([0, ['left-origin']])
  })
})

describe('sealWhenHidden', () => {
  it('seals while the page is hidden and takes the seal back when it is shown; a crash while hidden keeps the keys', async () => {
    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible')
    const first = await open({ sealWhenHidden: true })
    first.store.set('k', 'v')
    expect(sessionStorage.getItem(SEALED)).toBeNull()
    hidden.mockReturnValue('hidden')
    fire('visibilitychange', {}, document)
    expect(sessionStorage.getItem(SEALED)).not.toBeNull()
    first.store.set('k', 'changed while hidden')
    await Promise.resolve()
    hidden.mockReturnValue('visible')
    fire('visibilitychange', {}, document)
    expect([sessionStorage.getItem(SEALED), record()!.w]).toEqual([null, 'live'])
    hidden.mockReturnValue('hidden')
    fire('visibilitychange', {}, document)
    leave({ hide: false }) // killed in the background
    const second = await open()
    expect([second.store.get('k'), second.errors]).toEqual(['changed while hidden', []])
  })

  it('a page unfrozen in the background (resume while hidden) keeps its seal: it is not shown', async () => {
    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible')
    const first = await open({ sealWhenHidden: true })
    first.store.set('k', 'v')
    hidden.mockReturnValue('hidden')
    fire('visibilitychange', {}, document)
    fire('freeze', {}, document)
    fire('resume', {}, document)
    expect(sessionStorage.getItem(SEALED)).not.toBeNull()
    leave({ hide: false }) // killed in the background after all
    const second = await open()
    expect([second.store.get('k'), second.errors]).toEqual(['v', []])
  })

  it('a page that was hidden, left for another origin and stayed, shown again, seals nothing while shown', async () => {
    vi.useFakeTimers()
    const nav = fakeNavigation(null, ['a'])
    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible')
    const { store } = await open({ sealWhenHidden: true })
    store.set('k', 'v')
    hidden.mockReturnValue('hidden')
    fire('visibilitychange', {}, document)
    nav.navigate('https://elsewhere.example/') // a script in the background
    expect(sessionStorage.getItem(SEALED)).toBeNull()
    hidden.mockReturnValue('visible')
    fire('visibilitychange', {}, document)
    vi.advanceTimersByTime(3000)
    store.set('k', 'changed')
    await Promise.resolve()
    expect(sessionStorage.getItem(SEALED)).toBeNull()
  })

  it('is off by default: a hidden page seals nothing', async () => {
    vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden')
    const { store } = await open()
    store.set('k', 'v')
    fire('visibilitychange', {}, document)
    expect(sessionStorage.getItem(SEALED)).toBeNull()
  })
})
