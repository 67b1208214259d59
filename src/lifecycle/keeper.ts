import { seal, tag } from '../seal'
import { type Share, readShare } from '../share'
import { keepsName } from './departure'
import type { ErrorReason } from '../events'
import { type Intent, type Outcome, catchUp, context, navigation } from './placement'
import type { Peers } from './peers'
import { type PageSeal, type TabRecord, type TabStorage, type Where, token } from './tab'

/** What the page lifecycle needs from a store. */
export interface TabHost {
  /** Serialises the live entries, the logout epoch and the last activity; the caller wipes `bytes`. */
  encode(): { bytes: Uint8Array; count: number }
  size(): number
  lastActive(): number
  /** The `sealWhenHidden` option. */
  sealWhenHidden(): boolean
  /** Back from the back/forward cache, the page takes the tab's newer state; false when it dropped it (a logout, idle time). */
  adopt(plain: Uint8Array): boolean
  /** Back from the cache, the page drops its keys: the tab's latest state is empty, has keys it cannot have (`stale`), or cannot be known (`unrecorded`). */
  drop(why: 'empty' | 'stale' | 'unrecorded'): void
  /** Back from the cache, first thing: the tab's logout epoch now (a logout everywhere since?), and its last activity. */
  returned(epoch: string, lastActive: number): void
  /** Back from the cache, while the key that opens the tab's newer state is derived: the keys leave the store's view (`pending`), kept. */
  setAside(): void
  /** ...and come back, before the newer state is taken or they are dropped. */
  putBack(): void
  /** Entering the cache (true), and back with the tab's state settled (false): idle time is judged then. */
  frozen(frozen: boolean): void
  report(reason: ErrorReason, error?: unknown): void
  persisted(count: number): void
  /** Events a transition causes are held back while it runs, and delivered once it is over: no listener runs in the middle of one. */
  hold(): void
  release(): void
}

/**
 * The page's whole state. `state` changes only by the table; the rest is what the
 * transitions' actions keep, and `changed()` marks what a change of the keys makes out of
 * date (`dirty`, and a seal made at `pageswap` or `pagehide`).
 */
export interface Page {
  state: 'active' | 'hidden' | 'leaving' | 'frozen' | 'gone'
  /** Where the page goes, once the engine said (`navigate`, `pageswap`). */
  intent: Intent | undefined
  /** The generation of the state this page holds, as the tab's record names it. */
  gen: string
  /** Changed since the record last named `gen`: the next write names a new generation. */
  dirty: boolean
  /** A traversal sealed at `pageswap` (Chromium shows the restored page before `pagehide`), and whether the keys changed since. */
  swapped: { changed: boolean } | undefined
  /** Where the page went at `pagehide`, and whether the keys changed since: a change after it is placed there again. */
  left: { intent: Intent; changed: boolean } | undefined
  /** Whether the record says the tab has keys. */
  recordedKeys: boolean
  /** Tags of the shares the tab vouches no other origin saw (the record's `v`). */
  vouched: string[]
  /** The share was shown when the page went into the cache: an empty `window.name` on return then says the engine cleared it. */
  leftShown: boolean
  persistent: boolean
  /** Sealed because the page is hidden (`sealWhenHidden`); taken back when shown. */
  sealedHidden: boolean
  /** When the page last came back from the cache: the page it left may still write (`#heard`). */
  restoredAt: number
  /** When the newest record the page acted on since was written: `storage` events Chromium queued while it sat in the cache are older. */
  seenAt: number
}

/** A fresh page's state, from the tab's record as it found it. */
export const freshPage = (record: TabRecord | undefined | null): Page => ({
  state: 'active',
  intent: undefined,
  gen: record?.g ?? token(),
  dirty: false,
  swapped: undefined,
  left: undefined,
  recordedKeys: false,
  vouched: record?.v ?? [],
  leftShown: false,
  persistent: false,
  sealedHidden: false,
  restoredAt: -Infinity,
  seenAt: 0,
})

/**
 * Whether a restored page may be shown while the page it leaves has yet to run `pageswap`
 * and `pagehide`: Chromium (measured), told apart as the engine with both `pageswap` and
 * the Navigation API (Firefox has no `pageswap`, WebKitGTK 2.50 no Navigation API).
 */
const overlaps = (): boolean => 'onpageswap' in window && navigation() !== undefined

const isQuotaError = (error: unknown): boolean =>
  error instanceof DOMException && (error.name === 'QuotaExceededError' || error.code === 22)

/**
 * What a page keeps in its tab, and the generation it holds: the seal (for the next page
 * in sessionStorage, for a traversal in the record), the record, and the shares the tab
 * vouches for. The lifecycle (machine.ts) says when; this says what goes where.
 */
export class Keeper {
  readonly #name: string
  readonly #host: TabHost
  readonly #tab: TabStorage
  readonly #share: Share
  readonly #page: Page
  readonly #peers: Peers

  constructor(name: string, host: TabHost, tab: TabStorage, share: Share, page: Page, peers: Peers) {
    this.#name = name
    this.#host = host
    this.#tab = tab
    this.#share = share
    this.#page = page
    this.#peers = peers
  }

  /**
   * What is sealed where: for the next page (sessionStorage), a traversal (the record), or
   * nothing; and, as the page leaves, to the other pages of the tab (peers.ts), wherever
   * it goes: that seal opens in their memory only.
   */
  place(intent: Intent): void {
    const size = this.#host.size()
    const { state } = this.#page
    const pages = size && state !== 'active' && state !== 'hidden' ? this.#pages() : undefined
    // Encoded only to be sealed: not for another origin unless to pages of the tab, nor
    // without keys. (Encoding also runs the idle check; keys kept in memory for another
    // origin meet it on their return.)
    const encoded = size && (intent !== 'away' || pages?.length) ? this.#host.encode() : undefined
    if (!encoded?.count) {
      encoded?.bytes.fill(0)
      this.#tab.unseal()
      this.record(size ? 'away' : 'live', undefined, undefined, pages)
      return
    }
    const { bytes, count } = encoded
    const gen = this.nextGen()
    try {
      const e = this.#peers.seal(bytes, pages, gen)
      if (intent === 'away') {
        this.#tab.unseal()
        this.record('away', undefined, e, pages)
        return
      }
      const text = seal(bytes, this.#share.bytes, this.#name, context(gen))
      // localStorage (5 MiB per origin) may refuse a large state: then sessionStorage,
      // which a fresh load reads too.
      if (intent === 'traverse' && this.record('slot', text, e, pages)) this.#tab.unseal()
      else {
        this.#tab.seal(text)
        this.record('sealed', undefined, e, pages)
      }
      this.#host.persisted(count)
    } catch (error) {
      const quota = isQuotaError(error)
      this.#host.report(quota ? 'quota' : 'storage-unavailable', error)
      this.#tab.unseal()
      // Nobody listens while a page leaves: the record tells the next page.
      this.record('quota')
    } finally {
      bytes.fill(0)
    }
  }

  /**
   * Takes the tab's latest state as `record` names it, or drops what this page holds;
   * false when it had nothing to catch up with; `wait` when a seal to this page holds it,
   * whose key is not derived yet, or, `returning`, a page that holds it live has yet to
   * seal it.
   */
  catchUp(record: TabRecord | undefined | null, returning = false): boolean | 'wait' {
    // Chromium shows a restored page before the page it leaves seals (its `pageswap`):
    // while the record says a page holds the tab's state live, that page may have changed
    // it without a new generation yet (a change that leaves keys in the store writes none
    // until the page leaves), so on a return not even the same generation is `current`
    // (measured). Not later: the live record may be this page's own.
    if (returning && record?.w === 'live' && record.n > 0 && overlaps()) return 'wait'
    let outcome = catchUp(record, this.#page.gen, this.#tab.takeSealed(), this.#share.bytes, this.#name)
    if (outcome === 'stale') {
      const opened = this.#peers.open(record!.e, record!.g)
      if (opened === 'wait') return 'wait'
      if (opened instanceof Uint8Array) outcome = { plain: opened }
    }
    return this.settle(record, outcome)
  }

  /** What this page holds after `outcome` of a catch-up: the record's generation, unless it holds less. */
  settle(record: TabRecord | undefined | null, outcome: Outcome): boolean {
    if (outcome === 'current') return false
    const taken =
      typeof outcome === 'object' ? this.#host.adopt(outcome.plain) : (this.#host.drop(outcome), outcome === 'empty')
    // This page now holds the record's generation, unless it holds less: it dropped keys
    // the tab has elsewhere (stale), or dropped what it took (a logout, idle time). Without
    // a record, its state starts a new one.
    this.#page.gen = record?.g ?? token()
    this.#page.dirty = !taken
    return true
  }

  /** A new generation when the state changed since the record last named one. */
  nextGen(): string {
    if (this.#page.dirty) {
      this.#page.gen = token()
      this.#page.dirty = false
    }
    return this.#page.gen
  }

  /**
   * Writes the tab's record. Refused (storage full), the record is gone (tab.ts), so pages
   * behind cannot take it for theirs, and the page says so: what it seals now will not be
   * vouched for. `pages`: the pages of the tab as `place` just read them, not read again.
   */
  record(w: Where, s?: string, e?: PageSeal, pages?: [string, string][]): boolean {
    const n = this.#host.size()
    this.#page.recordedKeys = n > 0
    const record = {
      g: this.nextGen(),
      n,
      w,
      a: this.#host.lastActive(),
      k: this.#share.tag,
      v: this.#page.vouched,
      ...(s ? { s } : {}),
      ...(pages ? { p: pages } : {}),
    }
    // The seal to other pages is a bonus: refused, the record goes without it. The writer
    // is the page shown, or the one leaving: named last, as the one shown most recently.
    const { id, pub } = this.#peers
    const self: [string, string] | undefined = pub ? [id, pub] : undefined
    const known = this.#peers.known()
    const written = (e && this.#tab.write({ ...record, e }, known, self)) || this.#tab.write(record, known, self)
    if (!written && !s) this.#host.report('quota')
    return written
  }

  /** The pages of the tab to seal to: as the record names them, or as this page knew them when the record is gone. */
  #pages(): [string, string][] {
    const record = this.#tab.record()
    return record ? (record.p ?? []) : this.#peers.known()
  }

  /**
   * At load: the share in `window.name` is trusted only as the one the tab's state goes
   * with, and no other origin saw: any site the tab visited may have planted one it knows.
   * Where other origins read the name, only from a previous page that said where it went
   * and sealed for this one: there a departure can go untold (Firefox at times fires no
   * `pagehide` at all, measured), which leaves the record `live`. (Not a fresh share at
   * every load: Firefox gives a page reached by Back the name its entry had.)
   */
  trust(found: ReturnType<typeof readShare>, record: TabRecord | undefined | null): void {
    const page = this.#page
    const known = found instanceof Uint8Array && tag(found)
    if (known && keepsName() && record?.w !== 'sealed' && record?.w !== 'slot')
      page.vouched = page.vouched.filter((t) => t !== known)
    if (known && record?.k === known && page.vouched.includes(known)) this.#share.use(found as Uint8Array, known)
    else this.renewShare()
  }

  /**
   * Back from the cache: the shares the tab vouches for now, and a fresh one for this page
   * unless its own is among them. WebKit clears `window.name` for other origins in a
   * top-level window without an opener (measured): an empty one says the other origin saw
   * nothing. Not where the name is kept (a window another page opened, a frame): there a
   * site that read the share can empty it before Back. Chromium shows a restored page its
   * own stale value.
   */
  vouchAgain(record: TabRecord | undefined | null): void {
    const page = this.#page
    page.vouched = record?.v ?? []
    if (page.vouched.includes(this.#share.tag)) return
    if (page.leftShown && !keepsName() && readShare(this.#name) === undefined) page.vouched.push(this.#share.tag)
    else this.renewShare()
  }

  /** A fresh share, vouched for: nobody but this tab has seen it. */
  renewShare(): void {
    this.#share.renew()
    this.#page.vouched.push(this.#share.tag)
  }

  /** Another origin may have seen the share: the tab no longer vouches for it. */
  expose(): void {
    this.#page.vouched = this.#page.vouched.filter((t) => t !== this.#share.tag)
  }
}
