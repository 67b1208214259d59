import { describe, expect, it, vi } from 'vitest'
import { encodeEntries } from '../../src/encoding'
import { Peers } from '../../src/lifecycle/peers'
import { context } from '../../src/lifecycle/placement'
import { seal } from '../../src/seal'
import { readShare } from '../../src/share'
import type { PageSeal } from '../../src/lifecycle/tab'
import {
  cache,
  comeBack,
  fakeNavigation,
  fire,
  freshTabs,
  hasPageswap,
  open,
  record,
  recordWritten,
  setRecord,
} from './page'

/** A page's key pair, once made. */
async function made(name = 'app'): Promise<Peers> {
  let ready!: () => void
  const done = new Promise<void>((resolve) => (ready = resolve))
  const peers = new Peers(name, () => ready())
  await done
  return peers
}
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (opened: unknown): string | undefined =>
  opened instanceof Uint8Array ? new TextDecoder().decode(opened) : (opened as string | undefined)
const G = '00000000000000a1'

describe('keys of the pages of a tab (peers.ts)', () => {
  it('a state sealed to a page opens there, once it derived the key it shares with the sealer; nowhere else', async () => {
    const [a, b, c] = [await made(), await made(), await made()]
    await a.derive([b.pub, c.pub])
    const sealed = a.seal(
      bytes('secret'),
      [
        [b.id, b.pub],
        [c.id, c.pub],
        [a.id, a.pub],
      ],
      G,
    )!
    expect(sealed.r.map(([id]) => id)).toEqual([b.id, c.id])
    expect(JSON.stringify(sealed)).not.toContain('secret')
    expect(b.open(sealed, G)).toBe('wait')
    await b.derive([a.pub])
    await c.derive([a.pub])
    expect(text(b.open(sealed, G))).toBe('secret')
    expect(text(c.open(sealed, G))).toBe('secret')
    // A page it was not sealed to, with every key it could derive: nothing.
    const d = await made()
    await d.derive([a.pub, b.pub, c.pub])
    expect(d.open(sealed, G)).toBeUndefined()
    // A page of another store of the same tab: another key.
    const other = await made('other')
    await other.derive([a.pub])
    expect(other.open({ ...sealed, r: sealed.r.map(([, w]) => [other.id, w]) }, G)).toBeUndefined()
  })

  it("a wrap under another page's id, another generation, a changed byte or junk: refused, never altered", async () => {
    const [a, b, c] = [await made(), await made(), await made()]
    await a.derive([b.pub, c.pub])
    await b.derive([a.pub])
    await c.derive([a.pub])
    const sealed = a.seal(
      bytes('secret'),
      [
        [b.id, b.pub],
        [c.id, c.pub],
      ],
      G,
    )!
    const swapped: PageSeal = {
      ...sealed,
      r: [
        [b.id, sealed.r[1]![1]],
        [c.id, sealed.r[0]![1]],
      ],
    }
    expect([b.open(swapped, G), c.open(swapped, G)]).toEqual([undefined, undefined])
    // Replayed under a newer generation: refused (the record names the generation).
    expect(b.open({ ...sealed, g: '00000000000000b2' }, '00000000000000b2')).toBeUndefined()
    expect(b.open(sealed, '00000000000000b2')).toBeUndefined()
    const flip = (s: string): string => s.slice(0, 30) + String.fromCharCode(s.charCodeAt(30) ^ 1) + s.slice(31)
    expect(b.open({ ...sealed, c: flip(sealed.c) }, G)).toBeUndefined()
    expect(b.open({ ...sealed, r: [[b.id, flip(sealed.r[0]![1])]] }, G)).toBeUndefined()
    for (const junk of [
      null,
      1,
      'x',
      [],
      { g: G },
      { ...sealed, r: 'x' },
      { ...sealed, r: [[b.id, 5]] },
      { ...sealed, f: 5 },
    ])
      expect(b.open(junk, G)).toBeUndefined()
    // A sealer's public key that is not a point: no key comes of it, and no wait for one.
    const bogus = { ...sealed, f: 'ff'.repeat(32) }
    expect(b.open(bogus, G)).toBe('wait')
    await b.derive([bogus.f])
    expect(b.open(bogus, G)).toBeUndefined()
    // Control: the seal as it was still opens.
    expect(text(b.open(sealed, G))).toBe('secret')
  })

  it('seals nothing without a derived key, and forgets its keys for good', async () => {
    const [a, b] = [await made(), await made()]
    expect(a.seal(bytes('x'), [[b.id, b.pub]], G)).toBeUndefined()
    await a.derive([b.pub])
    expect(a.derive([b.pub])).toBeUndefined()
    expect(a.seal(bytes('x'), [[b.id, b.pub]], G)).toBeDefined()
    a.forget()
    expect(a.seal(bytes('x'), [[b.id, b.pub]], G)).toBeUndefined()
    expect(a.derive([b.pub])).toBeUndefined()
  })
})

describe('a page back from the cache, over a share it cannot read (machine.ts)', () => {
  freshTabs()
  const listed = (n: number): Promise<void> => vi.waitFor(() => expect(record()?.p).toHaveLength(n))

  /** Page A sets k=v1 and goes into the cache; page B takes it, sets k=v2, and leaves for another site. */
  async function aThenB({ wipe = false } = {}): Promise<Awaited<ReturnType<typeof open>>> {
    const a = await open()
    a.store.set('k', 'v1')
    await listed(1)
    const cachedA = cache()
    const b = await open()
    expect(b.store.get('k')).toBe('v1')
    b.store.set('k', 'v2')
    await listed(2)
    // B derives the key it shares with A off the load's path.
    await new Promise((resolve) => setTimeout(resolve, 20))
    fire('pageswap', { activation: null })
    // The app clears localStorage as the page goes: the record, and the pages it named, are gone.
    if (wipe) localStorage.clear()
    fire('pagehide', { persisted: true })
    expect(record()).toMatchObject({ w: 'away', n: 1 })
    expect((record()!.e as PageSeal).r).toHaveLength(1)
    a.events.length = 0
    named = ((record()?.p as [string, string][] | undefined) ?? []).map(([id]) => id)
    comeBack(cachedA, { hide: false })
    return a
  }
  /** The ids the record named before A came back: A's, then B's. */
  let named: string[] = []

  it('takes the newer state sealed to it: pending and showing no key meanwhile, then told as changes', async () => {
    const a = await aThenB()
    expect([a.store.pending, a.store.keys(), a.store.get('k')]).toEqual([true, [], null])
    await vi.waitFor(() => expect(a.store.pending).toBe(false))
    expect([a.store.get('k'), a.errors, a.events]).toEqual(['v2', [], ['updated:k', 'restored:history:1']])
    expect(record()).toMatchObject({ w: 'live', n: 1 })
    expect(record()!.e).toBeUndefined()
    // The page shown last is named last: the cache evicts the page shown least recently.
    expect((record()!.p as [string, string][]).map(([id]) => id)).toEqual([named[1], named[0]])
  })

  it('after the app cleared localStorage, the leaving page still seals to the pages it knew, and names them again', async () => {
    const a = await aThenB({ wipe: true })
    expect(record()!.p).toHaveLength(2)
    await vi.waitFor(() => expect(a.store.pending).toBe(false))
    expect([a.store.get('k'), a.errors]).toEqual(['v2', []])
  })

  it('a change made while it waits: fail closed, its keys go, told (stale)', async () => {
    const a = await aThenB()
    a.store.set('mine', 'made while pending')
    await Promise.resolve()
    expect([a.store.pending, a.store.keys(), a.errors]).toEqual([false, [], ['stale']])
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(a.store.keys()).toEqual([])
  })

  it('leaving while it waits: fail closed, nothing older sealed', async () => {
    const a = await aThenB()
    fire('pagehide', { persisted: false })
    expect([a.errors, record()!.n]).toEqual([['stale'], 0])
  })

  /** Chromium: page A, with k=v1, back from the cache while the page it left still holds the newer state (`live`). */
  async function backBeforeTheSeal(gen: string): Promise<Awaited<ReturnType<typeof open>>> {
    hasPageswap(true)
    fakeNavigation(null, ['e1'])
    const a = await open()
    a.store.set('k', 'v1')
    await Promise.resolve()
    const cachedA = cache()
    setRecord({ g: gen, n: 1, w: 'live' })
    comeBack(cachedA, { hide: false })
    return a
  }

  it("Chromium: the page it left seals after this page's pageshow: it waits for that write, and takes it", async () => {
    const gen = '00000000000000c3'
    const a = await backBeforeTheSeal(gen)
    expect([a.store.pending, a.store.keys()]).toEqual([true, []])
    // The page it left seals at last, for the traversal.
    const newer = new Map([['k', { value: 'v2', expiresAt: Infinity }]])
    const plain = encodeEntries(newer, Date.now(), { epoch: '', lastActive: Date.now() }).bytes
    setRecord({ w: 'slot', s: seal(plain, readShare('app') as Uint8Array, 'app', context(gen)) })
    recordWritten()
    expect([a.store.pending, a.store.get('k'), a.errors]).toEqual([false, 'v2', []])
  })

  it('a record gone at the return: a storage event Chromium queued while the page sat in the cache does not bring an older state back', async () => {
    const a = await open()
    a.store.set('k', 'v1')
    await Promise.resolve()
    const cachedA = cache()
    localStorage.removeItem(Object.keys(localStorage).find((k) => k.startsWith('tab-keystore/tab/'))!)
    comeBack(cachedA, { hide: false })
    expect([a.store.keys(), a.errors]).toEqual([[], ['unrecorded']])
    const older = new Map([['k', { value: 'older', expiresAt: Infinity }]])
    const plain = () => encodeEntries(older, Date.now(), { epoch: '', lastActive: Date.now() }).bytes
    const slot = (t: number) =>
      JSON.stringify({
        ...record(),
        g: '00000000000000c3',
        n: 1,
        w: 'slot',
        t,
        s: seal(plain(), readShare('app') as Uint8Array, 'app', context('00000000000000c3')),
      })
    recordWritten(slot(Date.now() - 1000))
    expect(a.store.keys()).toEqual([])
    // Control: the same write after the return is taken.
    recordWritten(slot(Date.now() + 1))
    expect(a.store.get('k')).toBe('older')
  })

  it("Chromium: back before the page it left sealed, the record naming this page's own generation (a change that wrote none): it waits for that seal too", async () => {
    hasPageswap(true)
    fakeNavigation(null, ['e1'])
    const a = await open()
    a.store.set('k', 'v1')
    a.store.set('j', 'deleted later')
    await Promise.resolve()
    const cachedA = cache()
    // The page it left deleted j: with keys still in the store, no new generation was recorded.
    setRecord({ g: record()!.g, n: 2, w: 'live' })
    comeBack(cachedA, { hide: false })
    expect([a.store.pending, a.store.keys()]).toEqual([true, []])
    const gen = '00000000000000f6'
    const newer = new Map([['k', { value: 'v1', expiresAt: Infinity }]])
    const plain = encodeEntries(newer, Date.now(), { epoch: '', lastActive: Date.now() }).bytes
    setRecord({
      g: gen,
      n: 1,
      w: 'slot',
      t: Date.now() + 1,
      s: seal(plain, readShare('app') as Uint8Array, 'app', context(gen)),
    })
    recordWritten()
    expect([a.store.pending, a.store.keys(), a.errors]).toEqual([false, ['k'], []])
  })

  it('Chromium: the page it left has not sealed yet (the record says live): waits for its write, or 3 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const a = await backBeforeTheSeal('00000000000000c3')
    expect([a.store.pending, a.store.keys()]).toEqual([true, []])
    vi.advanceTimersByTime(2999)
    expect([a.store.pending, a.errors]).toEqual([true, []])
    vi.advanceTimersByTime(1)
    expect([a.store.pending, a.store.keys(), a.errors]).toEqual([false, [], ['stale']])
    // Control: without pageswap and the Navigation API (Firefox, WebKit), no wait.
    hasPageswap(false)
    const again = cache()
    setRecord({ g: '00000000000000d4', n: 1, w: 'live' })
    comeBack(again, { hide: false })
    expect([a.store.pending, a.errors]).toEqual([false, ['stale', 'stale']])
  })
})
