import type { ErrorReason } from '../events'
import { SHARE_LENGTH, randomBytes, seal, tag } from '../seal'
import { AWAY, readShare, writeShare } from '../share'
import { type Intent, type NavigateEventLike, catchUp, context, load, navigation } from './placement'
import { type TabRecord, type TabStorage, type Where, openTab, token } from './tab'

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
  /** Entering the cache (true), and back with the tab's state settled (false): idle time is judged then. */
  frozen(frozen: boolean): void
  report(reason: ErrorReason, error?: unknown): void
  persisted(count: number): void
}

/** A store's tie to its tab, present only in a browser window with usable sessionStorage. */
export interface TabLink {
  /** The plaintext state the tab handed this page at load, if any. */
  readonly restored: Uint8Array | undefined
  /** Called once the store holds what was restored (`changed`: less of it): the page now holds the tab's latest state. */
  start(changed: boolean): void
  /** Seals into sessionStorage now, and again after every change, until the page goes. */
  persist(): void
  /** The store changed. */
  changed(): void
  /** The logout-everywhere epoch (`''` when none). */
  epoch(): string
  /** Starts a new logout-everywhere epoch and returns it. */
  logout(): string
  /** For good (`destroy()`): nothing is left for the next page, and pages of the tab in the cache drop theirs. */
  detach(): void
}

const ACTIVE = 'active'
const HIDDEN = 'hidden'
const LEAVING = 'leaving'
const FROZEN = 'frozen'
const GONE = 'gone'
type State = typeof ACTIVE | typeof HIDDEN | typeof LEAVING | typeof FROZEN | typeof GONE
const ALIVE = [ACTIVE, HIDDEN, LEAVING] as const

/**
 * The legal transitions: the states each may come from, and the state it leads to. An
 * event that names no legal transition from the current state is ignored (a
 * `visibilitychange` of a page in the back/forward cache, a `pagehide` after `destroy()`).
 */
const TRANSITIONS = {
  /** `visibilitychange` to hidden, `freeze`: the tab went to the background. */
  hide: [[ACTIVE], HIDDEN],
  /** `visibilitychange` to visible, `resume` while visible. */
  show: [[HIDDEN], ACTIVE],
  /** `navigate` to another origin, `pageswap`: the page learns where it is going. */
  announce: [ALIVE, LEAVING],
  /** A navigation announced to another origin did not happen (a download, a 204, a slow answer, Stop), or a newer one within the origin replaced it. */
  stay: [[LEAVING], ACTIVE],
  /** `pagehide`, persisted: into the back/forward cache. */
  freeze: [ALIVE, FROZEN],
  /** `pagehide`, not persisted: the document goes. */
  unload: [ALIVE, GONE],
  /** `pageshow`, persisted: back from the cache. */
  restore: [[FROZEN], ACTIVE],
  /** `destroy()`. */
  detach: [[...ALIVE, FROZEN, GONE], GONE],
} as const satisfies Record<string, readonly [readonly State[], State]>
type Transition = keyof typeof TRANSITIONS

/** How long a navigation to another origin may take before the page counts it as not happening. */
const STAY_AFTER = 3000
/** How long after a return the page it left may still change the tab's state (its `pagehide`, in Chromium). */
const OVERLAP = 3000

const isQuotaError = (error: unknown): boolean =>
  error instanceof DOMException && (error.name === 'QuotaExceededError' || error.code === 22)

/**
 * Ties store `name` to its tab: restores what the previous page of the tab left, and keeps
 * the tab's one latest state as the page lives, leaves, sits in the back/forward cache and
 * comes back (DESIGN.md). `undefined` (memory only) in Node, SSR and Workers, and where
 * sessionStorage cannot be used.
 */
export function linkTab(name: string, host: TabHost): TabLink | undefined {
  // `window` alone is not enough: happy-dom and some SSR setups define it without a document.
  if (typeof window !== 'object' || typeof document !== 'object') return undefined
  const share = readShare(name)
  // A window another page opened has a copy of the opener's sessionStorage (all three
  // engines, measured), and no share: it is a new tab. (A tab's own page always finds its
  // share, except after a trip to another site in Firefox and WebKit, which clear
  // `window.name`; a tab opened with an opener then starts anew: DESIGN.md.)
  const tab = openTab(name, share === undefined && window.opener != null)
  if ('error' in tab) {
    host.report('storage-unavailable', tab.error)
    return undefined
  }
  return new Lifecycle(name, host, tab, share)
}

class Lifecycle implements TabLink {
  readonly restored: Uint8Array | undefined
  readonly #name: string
  readonly #host: TabHost
  readonly #tab: TabStorage
  #state: State = ACTIVE
  /** Where the page goes, once the engine said (`navigate`, `pageswap`). */
  #intent: Intent | undefined
  /** S1: in `window.name` while `#shown`; and its tag, computed once per share (a ChaCha20-Poly1305). */
  #share!: Uint8Array
  #tag!: string
  #shown = false
  /** Shown when the page went into the cache: an empty `window.name` on return then says the engine cleared it. */
  #leftShown = false
  /** The generation of the state this page holds, as the tab's record names it. */
  #gen: string
  /** Changes here, and how many of them the record has seen: when they differ, the state is of a new generation. */
  #version = 0
  #recorded = 0
  /** Whether the record says the tab has keys (it changes as the store fills or empties). */
  #recordedKeys = false
  /** The version sealed at `pageswap` for a traversal (Chromium shows the restored page before `pagehide`). */
  #sealedAt = -1
  /** Tags of the shares the tab vouches no other origin saw (the record's `v`). */
  #vouched: string[]
  /** Where the page went at `pagehide`, and its version then: a change after it is placed there again. */
  #left: { intent: Intent; version: number } | undefined
  #persistent = false
  /** Sealed because the page is hidden (`sealWhenHidden`); taken back when shown. */
  #sealedHidden = false
  #scheduled = false
  /** At load, the tab's keys could not be had. */
  readonly #lost: boolean
  #stay: ReturnType<typeof setTimeout> | undefined
  /** When the page last came back from the cache: the page it left may still write (`#heard`). */
  #restoredAt = -Infinity
  /** The last `navigate` event, until `pageswap`: only its own end (timeout, success) may undo it. */
  #navigating: NavigateEventLike | undefined

  constructor(name: string, host: TabHost, tab: TabStorage, share: ReturnType<typeof readShare>) {
    this.#name = name
    this.#host = host
    this.#tab = tab
    const sealed = tab.takeSealed()
    const record = tab.record()
    const loaded = load(record, sealed, share, name)
    // The keys of the record's generation are gone: this page's state is a new one (start()).
    this.#lost = Boolean(loaded && 'error' in loaded)
    if (loaded && 'error' in loaded) host.report(loaded.error)
    this.restored = loaded && 'plain' in loaded ? loaded.plain : undefined
    this.#gen = record?.g ?? token()
    this.#vouched = record?.v ?? []
    // The share in `window.name` is trusted only as the one the tab's state goes with, and
    // no other origin saw: any site the tab visited may have planted one it knows. Where
    // other origins read the name, only from a previous page that said where it went and
    // sealed for this one: there a departure can go untold (Firefox at times fires no
    // `pagehide` at all, measured), which leaves the record `live`. (Not a fresh share at
    // every load: Firefox gives a page reached by Back the name its entry had.)
    const found = share instanceof Uint8Array && tag(share)
    if (found && keepsName() && record?.w !== 'sealed' && record?.w !== 'slot') this.#vouched = this.#vouched.filter((t) => t !== found)
    if (found && record?.k === found && this.#vouched.includes(found)) this.#useShare(share as Uint8Array, found)
    else this.#renewShare()
    this.#showShare(true)
    this.#listen('addEventListener')
  }

  #listen(method: 'addEventListener' | 'removeEventListener'): void {
    for (const type of ['pagehide', 'pageshow', 'pageswap', 'storage']) window[method](type, this)
    for (const type of ['visibilitychange', 'freeze', 'resume']) document[method](type, this)
    for (const type of ['navigate', 'navigatesuccess'] as const) navigation()?.[method](type, this)
  }

  start(changed: boolean): void {
    // The store took what was restored: the same state as the record's, unless it dropped some.
    this.#recorded = this.#version
    if (changed || this.#lost) this.#version++
    this.#record('live')
    if (document.visibilityState === 'hidden') this.#go('hide')
  }

  /** The one place where browser events become transitions. */
  handleEvent(event: Event): void {
    const persisted = (event as PageTransitionEvent).persisted
    if (event.type === 'navigate') this.#announce(intentOf(event as unknown as NavigateEventLike), event as unknown as NavigateEventLike)
    // An app took over a navigation within itself. (Never one to another origin: those
    // cannot be intercepted, and only their own end may undo them.)
    else if (event.type === 'navigatesuccess') {
      if (this.#state !== LEAVING) this.#settle(this.#navigating)
    }
    else if (event.type === 'pageswap') this.#announce(swapIntent(event))
    else if (event.type === 'storage') this.#heard(event as StorageEvent)
    else if (event.type === 'pagehide') this.#go(persisted ? 'freeze' : 'unload')
    else if (event.type === 'pageshow') {
      if (persisted) this.#go('restore')
    }
    // `resume` also fires for a page unfrozen in the background: still hidden, not shown.
    else this.#go(document.visibilityState === 'visible' ? 'show' : 'hide')
  }

  /** Takes transition `name` if it is legal from the current state, and runs what it does. */
  #go(name: Transition): boolean {
    const [from, to] = TRANSITIONS[name]
    if (!(from as readonly State[]).includes(this.#state)) return false
    this.#state = to
    this.#actions[name]()
    return true
  }

  readonly #actions: Record<Transition, () => void> = {
    hide: () => {
      if (!this.#host.sealWhenHidden() || !this.#host.size()) return
      this.#sealedHidden = true
      this.#place('next')
    },
    show: () => {
      if (!this.#sealedHidden) return
      this.#sealedHidden = false
      if (this.#persistent) return
      this.#tab.unseal()
      this.#record('live')
    },
    announce: () => undefined,
    stay: () => {
      this.#intent = undefined
      // Leaving for another origin removed any seal: sealed again below if still hidden.
      this.#sealedHidden = false
      this.#showShare()
      this.#record('live')
      if (this.#persistent) this.#place('next')
      if (document.visibilityState === 'hidden') this.#go('hide')
    },
    freeze: () => this.#leave(true),
    unload: () => this.#leave(false),
    restore: () => this.#restore(),
    detach: () => this.#detach(),
  }

  /**
   * The engine said where the page goes. To another origin: nothing may rest sealed
   * while that origin is shown, and where the page learns it in time (`navigate`: links,
   * forms, script navigations in Chromium and Firefox), the share leaves `window.name`
   * before the other origin can read it (Chromium shows it to other origins: measured),
   * and comes back if the page is still here after all. Any other navigation needs the
   * share in `window.name` for the next page. A traversal is sealed at `pageswap`, because
   * Chromium shows the restored page before this one's `pagehide`.
   */
  #announce(intent: Intent | undefined, navigate?: NavigateEventLike): void {
    if (!intent) return
    // A `navigate` to another origin not yet under way (no `pageswap` yet) may be undone:
    // by a newer navigation within the origin, which replaces it, or by its timeout.
    const undone = this.#state === LEAVING && this.#navigating !== undefined
    // After `pageswap` the navigation happens: nothing undoes it.
    this.#navigating = navigate
    if (navigate && intent !== 'away') {
      if (undone) this.#go('stay')
      // Within the app the page may stay yet (the app intercepts it, a 204, Stop): only
      // where it would go is remembered, for `pagehide`.
      if (this.#state !== LEAVING) this.#intent = intent
      this.#showShare()
      return
    }
    if (!this.#go('announce')) return
    clearTimeout(this.#stay)
    this.#intent = intent
    if (intent === 'away') {
      if (navigate) {
        // Where the name is kept across origins, its place stays marked: a window with an
        // opener that finds neither would take itself for a new one (a copy of its opener's
        // sessionStorage), and lose the keys that stayed with this page silently instead of
        // saying `left-origin`. Not elsewhere: Firefox restores the name a page left with
        // (unless empty) at the first reload after a return from the cache (measured).
        this.#hideShare(keepsName() ? AWAY : undefined)
        // Only time says the page stayed, not the navigation's signal: Chromium and Firefox
        // abort it whenever the next `navigate` fires, also a same-document one (a
        // `replaceState`, a hash) that leaves this navigation under way (read in their
        // sources; a download's abort only brings the share back 3 s later).
        this.#stay = setTimeout(() => this.#settle(navigate), STAY_AFTER)
      } else if (this.#shown) {
        // Chromium: a browser-UI navigation or a traversal to another origin (they fire no
        // `navigate`) shows that origin the share; the tab moves to a fresh one before it
        // seals anything again (DESIGN.md).
        this.#expose()
      }
      this.#place('away')
    } else {
      this.#showShare()
      if (intent === 'traverse' && !navigate) {
        this.#place('traverse')
        this.#sealedAt = this.#version
      }
    }
  }

  /** Navigation `navigate` ended (its timeout, or the app took it over) with this page still here. */
  #settle(navigate: NavigateEventLike | undefined): void {
    if (!navigate || navigate !== this.#navigating) return
    this.#navigating = undefined
    clearTimeout(this.#stay)
    if (!this.#go('stay')) this.#intent = undefined
  }

  /** `pagehide`: seals for where the page goes, unless `pageswap` did and nothing changed since. */
  #leave(frozen: boolean): void {
    clearTimeout(this.#stay)
    this.#navigating = undefined
    // Sealed again below if it must be; back from the cache the page is shown.
    this.#sealedHidden = false
    if (frozen) this.#host.frozen(true)
    this.#leftShown = this.#shown
    const intent = this.#intent ?? this.#unannounced()
    this.#left = { intent, version: this.#version }
    const sealedAt = this.#sealedAt
    this.#intent = undefined
    this.#sealedAt = -1
    if (sealedAt === this.#version) return
    // Changed after `pageswap` (an app's own pagehide handler): in Chromium the restored
    // page may already have taken the tab's state, and then it is the latest.
    if (sealedAt >= 0 && this.#tab.record()?.w !== 'slot') return
    this.#place(intent)
  }

  /**
   * `pagehide` with neither `navigate` nor `pageswap` before it: nobody said where the page
   * goes (in Firefox: the address bar, a bookmark, a traversal to another origin, a
   * navigation another window started). Firefox and WebKit clear `window.name` for another
   * origin in a top-level window without an opener, so there the next page may be the
   * tab's own. Where the name is kept across origins (a window another page opened, a
   * frame: all three engines, measured), or where the engine has `pageswap` and still said
   * nothing, the page counts as gone to an origin that may read the share: nothing sealed,
   * the share no longer vouched for.
   */
  #unannounced(): Intent {
    if (!('onpageswap' in window) && !keepsName()) return 'next'
    if (this.#shown) this.#expose()
    return 'away'
  }

  /** What is sealed where: for the next page (sessionStorage), a traversal (the record), or nothing. */
  #place(intent: Intent): void {
    // Encoded only to be sealed: not for another origin, nor without keys. (Encoding also
    // runs the idle check; keys kept in memory for another origin meet it on their return.)
    const encoded = intent !== 'away' && this.#host.size() ? this.#host.encode() : undefined
    if (!encoded?.count) {
      encoded?.bytes.fill(0)
      this.#tab.unseal()
      this.#record(this.#host.size() ? 'away' : 'live')
      return
    }
    const { bytes, count } = encoded
    const gen = this.#nextGen()
    try {
      const text = seal(bytes, this.#share, this.#name, context(gen))
      // localStorage (5 MiB per origin) may refuse a large state: then sessionStorage,
      // which a fresh load reads too.
      if (intent === 'traverse' && this.#record('slot', text)) this.#tab.unseal()
      else {
        this.#tab.seal(text)
        this.#record('sealed')
      }
      this.#host.persisted(count)
    } catch (error) {
      const quota = isQuotaError(error)
      this.#host.report(quota ? 'quota' : 'storage-unavailable', error)
      this.#tab.unseal()
      // Nobody listens while a page leaves: the record tells the next page.
      this.#record('quota')
    } finally {
      bytes.fill(0)
    }
  }

  /**
   * `pageshow`, persisted: this page shows keys again only if they are the tab's latest
   * state (DESIGN.md, "one tab, one latest state"), and takes a fresh share if the one it
   * holds may have been shown to another origin.
   */
  #restore(): void {
    const record = this.#tab.record()
    this.#host.returned(this.#tab.epoch(), record?.a ?? 0)
    this.#left = undefined
    this.#restoredAt = Date.now()
    this.#catchUp(record)
    this.#vouched = record?.v ?? []
    const mine = this.#tag
    if (!this.#vouched.includes(mine)) {
      // WebKit clears `window.name` for other origins in a top-level window without an
      // opener (measured): an empty one says the other origin saw nothing. Not where the
      // name is kept (a window another page opened, a frame): there a site that read the
      // share can empty it before Back. Chromium shows a restored page its own stale value.
      if (this.#leftShown && !keepsName() && readShare(this.#name) === undefined) this.#vouched.push(mine)
      else this.#renewShare()
    }
    // Rewritten on every return: WebKit cleared it, Chromium shows this page a stale view,
    // and Firefox restores it (and its first reload reverts a write made now: measured).
    this.#showShare(true)
    this.#record('live')
    // persist() keeps its promise: sealed again, under the share the page now holds.
    if (this.#persistent) this.#place('next')
    this.#host.frozen(false)
  }

  /** Takes the tab's latest state as `record` names it, or drops what this page holds; false when it had nothing to catch up with. */
  #catchUp(record: TabRecord | undefined | null): boolean {
    const outcome = catchUp(record, this.#gen, this.#tab.takeSealed(), this.#share, this.#name)
    if (outcome === 'current') return false
    const taken = typeof outcome === 'object' ? this.#host.adopt(outcome.plain) : (this.#host.drop(outcome), outcome === 'empty')
    // This page now holds the record's generation, unless it holds less: it dropped keys
    // the tab has elsewhere (stale), or dropped what it took (a logout, idle time). Without
    // a record, its state starts a new one.
    this.#gen = record?.g ?? token()
    this.#recorded = this.#version
    if (!taken) this.#version++
    return true
  }

  /**
   * A `storage` event: another document wrote. Chromium shows a restored page before the
   * page it leaves runs `pagehide` (measured), so a change made there (an app's logout as
   * the page goes) reaches the tab's record after this page took its state: it arrives
   * here as a `storage` event (measured), and is taken as a return would take it. Only
   * shortly after a return: at other times only another tab sharing this one's
   * sessionStorage (a duplicated tab) writes this record, and it must not make the page
   * shown drop its keys.
   */
  #heard(event: StorageEvent): void {
    if (this.#state !== ACTIVE && this.#state !== HIDDEN) return
    if (!this.#tab.owns(event.key) || Date.now() - this.#restoredAt > OVERLAP) return
    // Taken: the record says so again (and the slot it took no longer rests there).
    if (this.#catchUp(this.#tab.record())) this.#record('live')
  }

  persist(): void {
    if (this.#state === GONE) return
    this.#persistent = true
    // Leaving decides what is sealed (nothing while another origin is shown); back from
    // the cache, or after a navigation that did not happen, the page seals again.
    if (this.#state !== LEAVING && this.#state !== FROZEN) this.#place('next')
  }

  changed(): void {
    this.#version++
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      // After `pagehide` (an app's own handler: a logout as the page goes), what was left
      // for the next page must not outlive the change: placed again, where the page went.
      if (this.#left) return this.#left.version === this.#version ? undefined : this.#place(this.#left.intent)
      // A traversal sealed at `pageswap` (an app's own `pageswap` handler): sealed again now,
      // as Chromium shows the restored page before this one's `pagehide`.
      if (this.#state === LEAVING && this.#sealedAt >= 0) {
        this.#place('traverse')
        this.#sealedAt = this.#version
      }
      // Otherwise, once the page announced where it goes, leaving decides what is sealed.
      if (this.#state !== ACTIVE && this.#state !== HIDDEN) return
      // A state sealed by persist() or while hidden must not outlive a change; otherwise
      // the record only needs to know whether the tab holds keys (a crash then is told).
      if (this.#persistent || this.#sealedHidden) this.#place('next')
      else if (this.#host.size() > 0 !== this.#recordedKeys) this.#record('live')
    })
  }

  epoch(): string {
    return this.#tab.epoch()
  }

  logout(): string {
    return this.#tab.logout()
  }

  detach(): void {
    this.#go('detach')
  }

  #detach(): void {
    this.#left = undefined
    this.#listen('removeEventListener')
    clearTimeout(this.#stay)
    this.#tab.unseal()
    // An empty state of a new generation: pages of the tab in the cache drop theirs.
    this.#version++
    this.#record('live')
    this.#hideShare()
    this.#share.fill(0)
  }

  /** A new generation when the state changed since the record last named one. */
  #nextGen(): string {
    if (this.#version !== this.#recorded) {
      this.#gen = token()
      this.#recorded = this.#version
    }
    return this.#gen
  }

  /**
   * Writes the tab's record. Refused (storage full), the record is gone (tab.ts), so pages
   * behind cannot take it for theirs, and the page says so: what it seals now will not be
   * vouched for.
   */
  #record(w: Where, s?: string): boolean {
    const n = this.#host.size()
    this.#recordedKeys = n > 0
    const written = this.#tab.write({ g: this.#nextGen(), n, w, a: this.#host.lastActive(), k: this.#tag, v: this.#vouched, ...(s ? { s } : {}) })
    if (!written && !s) this.#host.report('quota')
    return written
  }

  /** A fresh share, vouched for: nobody but this tab has seen it. */
  #renewShare(): void {
    this.#useShare(randomBytes(SHARE_LENGTH))
    this.#vouched.push(this.#tag)
  }

  #useShare(share: Uint8Array, known?: string): void {
    this.#share = share
    this.#tag = known ?? tag(share)
  }

  /** Another origin may have seen the share: the tab no longer vouches for it. */
  #expose(): void {
    this.#vouched = this.#vouched.filter((t) => t !== this.#tag)
  }

  #showShare(force?: boolean): void {
    if (this.#shown && !force) return
    writeShare(this.#name, this.#share)
    this.#shown = true
  }

  #hideShare(mark?: typeof AWAY): void {
    if (!this.#shown) return
    writeShare(this.#name, mark)
    this.#shown = false
  }
}

/**
 * Whether other origins may read this window's name: a window another page opened, and a
 * frame, keep it across origins in all three engines (measured); Firefox and WebKit clear
 * it only for a top-level window without an opener.
 */
const keepsName = (): boolean => window.opener != null || window.top !== window

/**
 * Where a `navigate` event says the page goes (Chromium, Firefox): traversals within the
 * app, and any other navigation (links, forms, scripts, reloads) within the app or to
 * another origin. It fires neither for browser-UI navigations (the address bar,
 * bookmarks) nor for traversals to another origin (measured).
 */
function intentOf({ destination, navigationType, downloadRequest }: NavigateEventLike): Intent | undefined {
  if (destination.sameDocument || downloadRequest != null) return undefined
  if (new URL(destination.url).origin !== location.origin) return 'away'
  return navigationType === 'traverse' ? 'traverse' : 'next'
}

/** Where `pageswap` says the page goes (Chromium, WebKit): `activation` is null for another origin. */
function swapIntent(event: Event): Intent {
  const activation = (event as Event & { activation: { navigationType: string } | null }).activation
  return !activation ? 'away' : activation.navigationType === 'traverse' ? 'traverse' : 'next'
}
