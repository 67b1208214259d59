import { AWAY, Share, readShare } from '../share'
import { Departure, type Heard, keepsName } from './departure'
import { Keeper, type Page, type TabHost, freshPage } from './keeper'
import { Peers } from './peers'

export type { TabHost } from './keeper'
import { type Intent, type NavigateEventLike, load, navigation } from './placement'
import { type TabStorage, openTab, parseRecord } from './tab'

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
 * What each does is in `#actions`, under the same name.
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
  // Spelt out, not spread: a bundler keeps a module whose top level spreads an array, and
  // with it the core, for an app that imports only `KeystoreError` (esbuild, measured).
  detach: [[ACTIVE, HIDDEN, LEAVING, FROZEN, GONE], GONE],
} as const satisfies Record<string, readonly [readonly State[], State]>
type Transition = keyof typeof TRANSITIONS
/** What each transition does, and what it is told. */
type Actions = {
  [T in Transition]: T extends 'announce' ? (intent: Intent, navigate?: NavigateEventLike) => void : () => void
}

/** How long after a return the page it left may still change the tab's state (its `pagehide`, in Chromium). */
const OVERLAP = 3000

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
  readonly #host: TabHost
  readonly #tab: TabStorage
  readonly #share: Share
  readonly #departure = new Departure((heard) => this.#hear(heard))
  readonly #page: Page
  /** At load, the tab's keys could not be had. */
  readonly #lost: boolean
  /** What the page keeps where (keeper.ts). */
  readonly #keep: Keeper
  /** This page's key pair, and the keys it shares with the other pages of the tab (peers.ts). */
  readonly #peers: Peers
  /** Back from the cache, the page waits to open the tab's newer state (`#wait`): the store is `pending`. */
  #opening: { returning: boolean; timer: ReturnType<typeof setTimeout>; changed?: boolean } | undefined
  #scheduled = false

  constructor(name: string, host: TabHost, tab: TabStorage, share: ReturnType<typeof readShare>) {
    this.#host = host
    this.#tab = tab
    const sealed = tab.takeSealed()
    const record = tab.record()
    const loaded = load(record, sealed, share, name)
    // The keys of the record's generation are gone: this page's state is a new one (start()).
    this.#lost = Boolean(loaded && 'error' in loaded)
    if (loaded && 'error' in loaded) host.report(loaded.error)
    this.restored = loaded && 'plain' in loaded ? loaded.plain : undefined
    const page = (this.#page = freshPage(record))
    this.#share = new Share(name)
    this.#peers = new Peers(name, () => this.#meet(tab.record()))
    this.#keep = new Keeper(name, host, tab, this.#share, page, this.#peers)
    this.#keep.trust(share, record)
    this.#share.show(true)
    this.#listen('addEventListener')
  }

  #listen(method: 'addEventListener' | 'removeEventListener'): void {
    for (const type of ['pagehide', 'pageshow', 'pageswap', 'storage']) window[method](type, this)
    for (const type of ['visibilitychange', 'freeze', 'resume']) document[method](type, this)
    for (const type of ['navigate', 'navigatesuccess'] as const) navigation()?.[method](type, this)
  }

  start(changed: boolean): void {
    // The store took what was restored: the record's generation, unless it dropped some.
    this.#page.dirty = changed || this.#lost
    this.#keep.record('live')
    if (document.visibilityState === 'hidden') this.#go('hide')
  }

  /** The one place where browser events become transitions. */
  handleEvent(event: Event): void {
    this.#host.hold()
    try {
      const { type } = event
      const persisted = (event as PageTransitionEvent).persisted
      if (type === 'navigate' || type === 'navigatesuccess' || type === 'pageswap')
        this.#hear(this.#departure.hear(event, this.#page.state === LEAVING))
      else if (type === 'storage') this.#heard(event as StorageEvent)
      else if (type === 'pagehide') this.#go(persisted ? 'freeze' : 'unload')
      else if (type === 'pageshow') {
        if (persisted) this.#go('restore')
      }
      // `resume` also fires for a page unfrozen in the background: still hidden, not shown.
      else this.#go(document.visibilityState === 'visible' ? 'show' : 'hide')
    } finally {
      this.#host.release()
    }
  }

  /** What a navigation event meant (departure.ts), made a transition. */
  #hear(heard: Heard | undefined): void {
    if (heard?.to === 'announce') this.#go('announce', heard.intent, heard.navigate)
    else if (heard?.to === 'stay') {
      if (!this.#go('stay')) this.#page.intent = undefined
    } else if (heard) {
      if (heard.undone) this.#go('stay')
      // Only where it would go is remembered, for `pagehide`. Any navigation within the
      // app needs the share in `window.name` for the next page.
      if (this.#page.state !== LEAVING) this.#page.intent = heard.intent
      this.#share.show()
    }
  }

  /** Takes transition `name` if it is legal from the current state, and runs what it does. */
  #go<T extends Transition>(name: T, ...args: Parameters<Actions[T]>): boolean {
    const [from, to] = TRANSITIONS[name]
    if (!(from as readonly State[]).includes(this.#page.state)) return false
    // Whatever the page does next, it cannot wait for a key: it holds what it had.
    if (name !== 'show') this.#abandon()
    this.#page.state = to
    ;(this.#actions[name] as (...a: typeof args) => void)(...args)
    return true
  }

  readonly #actions: Actions = {
    hide: (): void => {
      if (!this.#host.sealWhenHidden() || !this.#host.size()) return
      this.#page.sealedHidden = true
      this.#keep.place('next')
    },
    show: (): void => {
      if (!this.#page.sealedHidden) return
      this.#page.sealedHidden = false
      if (this.#page.persistent) return
      this.#tab.unseal()
      this.#keep.record('live')
    },
    announce: (intent: Intent, navigate?: NavigateEventLike): void => this.#announce(intent, navigate),
    stay: (): void => {
      const page = this.#page
      page.intent = undefined
      // Leaving for another origin removed any seal: sealed again below if still hidden.
      page.sealedHidden = false
      this.#share.show()
      this.#keep.record('live')
      if (page.persistent) this.#keep.place('next')
      if (document.visibilityState === 'hidden') this.#go('hide')
    },
    freeze: (): void => this.#leave(true),
    unload: (): void => this.#leave(false),
    restore: (): void => this.#restore(),
    detach: (): void => this.#detach(),
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
  #announce(intent: Intent, navigate: NavigateEventLike | undefined): void {
    this.#departure.cancel()
    this.#page.intent = intent
    if (intent === 'away') {
      if (navigate) {
        // Where the name is kept across origins, its place stays marked: a window with an
        // opener that finds neither would take itself for a new one (a copy of its opener's
        // sessionStorage), and lose the keys that stayed with this page silently instead of
        // saying `left-origin`. Not elsewhere: Firefox restores the name a page left with
        // (unless empty) at the first reload after a return from the cache (measured).
        this.#share.hide(keepsName() ? AWAY : undefined)
        this.#departure.wait(navigate)
      } else if (this.#share.shown) {
        // Chromium: a browser-UI navigation or a traversal to another origin (they fire no
        // `navigate`) shows that origin the share; the tab moves to a fresh one before it
        // seals anything again (DESIGN.md).
        this.#keep.expose()
      }
      this.#keep.place('away')
    } else {
      this.#share.show()
      if (intent === 'traverse' && !navigate) {
        this.#keep.place('traverse')
        this.#page.swapped = { changed: false }
      }
    }
  }

  /** `pagehide`: seals for where the page goes, unless `pageswap` did and nothing changed since. */
  #leave(frozen: boolean): void {
    const page = this.#page
    this.#departure.end()
    // Sealed again below if it must be; back from the cache the page is shown.
    page.sealedHidden = false
    if (frozen) this.#host.frozen(true)
    page.leftShown = this.#share.shown
    const intent = page.intent ?? this.#unannounced()
    page.left = { intent, changed: false }
    // A page that goes for good is sealed to no more.
    if (!frozen) this.#tab.publish(this.#peers.id, undefined)
    const swapped = page.swapped
    page.intent = page.swapped = undefined
    if (swapped && !swapped.changed) return
    // Changed after `pageswap` (an app's own pagehide handler): in Chromium the restored
    // page may already have taken the tab's state, and then it is the latest.
    if (swapped && this.#tab.record()?.w !== 'slot') return
    this.#keep.place(intent)
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
    if (this.#share.shown) this.#keep.expose()
    return 'away'
  }

  /**
   * `pageshow`, persisted: this page shows keys again only if they are the tab's latest
   * state (DESIGN.md, "one tab, one latest state"), and takes a fresh share if the one it
   * holds may have been shown to another origin.
   */
  #restore(): void {
    const page = this.#page
    const record = this.#tab.record()
    this.#host.returned(this.#tab.epoch(), record?.a ?? 0)
    page.left = undefined
    page.restoredAt = Date.now()
    // Without a record, what was written before the return is older than its removal.
    page.seenAt = record?.t ?? page.restoredAt
    const caught = this.#keep.catchUp(record, true)
    this.#keep.vouchAgain(record)
    // Rewritten on every return: WebKit cleared it, Chromium shows this page a stale view,
    // and Firefox restores it (and its first reload reverts a write made now: measured).
    this.#share.show(true)
    this.#caught(caught, true)
    this.#meet(this.#tab.record())
  }

  /**
   * After a catch-up, the record names what the page holds now; on a return, persist()
   * keeps its promise (sealed again, under the share the page now holds) and idle time is
   * judged. Not while the key that opens the tab's newer state is derived (`wait`).
   */
  #caught(caught: boolean | 'wait', returning: boolean): void {
    if (caught === 'wait') return this.#wait(returning)
    if (caught || returning) this.#keep.record('live')
    if (!returning) return
    if (this.#page.persistent) this.#keep.place('next')
    this.#host.frozen(false)
  }

  /**
   * The tab's newer state is sealed to this page under a key it has not derived yet
   * (about a millisecond), or the page that holds it has not sealed it yet (Chromium shows
   * a restored page before the page it leaves runs `pageswap`: measured, 5–15 ms). The
   * store shows no keys meanwhile (`pending`), never older ones, and the record stays as
   * it is: it names the newer state, where it rests. It tries again when the key is
   * derived or the record changes (`#heard`), for `OVERLAP` at most.
   */
  #wait(returning: boolean): void {
    this.#host.setAside()
    this.#opening ??= { returning, timer: setTimeout(() => this.#abandon(), OVERLAP) }
    void this.#peers.derive([this.#tab.record()?.e?.f])?.then(() => this.#retry())
  }

  #retry(record = this.#tab.record()): void {
    const opening = this.#opening
    if (!opening) return
    this.#host.hold()
    try {
      this.#host.putBack()
      // While it waits the page writes nothing: a live record is still the other page's.
      const caught = this.#keep.catchUp(record, true)
      if (caught !== 'wait') this.#stopWaiting()
      this.#caught(caught, opening.returning)
    } finally {
      this.#host.release()
    }
  }

  #stopWaiting(): void {
    clearTimeout(this.#opening?.timer)
    this.#opening = undefined
  }

  /**
   * Time is up, or the page leaves, changes or goes while it waits: fail closed, as a
   * page without a seal it can open does: its keys go, told (`stale`).
   */
  #abandon(): void {
    const opening = this.#opening
    if (!opening) return
    this.#stopWaiting()
    this.#host.hold()
    try {
      this.#host.putBack()
      this.#keep.settle(this.#tab.record(), 'stale')
      this.#caught(true, opening.returning)
    } finally {
      this.#host.release()
    }
  }

  /**
   * The pages of the tab `record` names: this page is among them while it lives (named
   * last by each of its writes of the record: the cache evicts the page shown least
   * recently), and the keys it shares with the others are derived ahead, for its seals as
   * it leaves and its next return. Not while it waits: no write of its own may come
   * between the page it left and that page's seal.
   */
  #meet(record: ReturnType<TabStorage['record']>): void {
    const { id, pub } = this.#peers
    if (!pub || !record || this.#page.state === GONE) return
    const pages = record.p ?? []
    if (!this.#opening && !pages.some((page) => page[0] === id)) this.#tab.publish(id, pub)
    this.#peers.meet(pages)
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
    const { state, restoredAt } = this.#page
    if ((state !== ACTIVE && state !== HIDDEN) || !this.#tab.owns(event.key)) return
    // What the other page wrote, when it is newer than what this page last acted on:
    // after a large write by a page of another process (a full localStorage), Chromium
    // shows a restored page a stale localStorage for a while, whose record may name this
    // page's own generation, and this page's write then wins over the newer one; the
    // writes it missed arrive as these events (measured: e2e/walk.js, trace "set a s0;
    // link; wipe; away; link; fill; set a s1; back; back"). Older ones are what Chromium
    // queued while the page sat in the cache: the record as it reads it counts then.
    const written = parseRecord(event.newValue)
    const record = written && written.t > this.#page.seenAt ? written : this.#tab.record()
    if (record) this.#page.seenAt = Math.max(this.#page.seenAt, record.t)
    // A page of the tab that came after this one names itself.
    this.#meet(record)
    if (this.#opening) return this.#retry(record)
    if (Date.now() - restoredAt > OVERLAP) return
    // Taken: the record says so again (and the slot it took no longer rests there).
    this.#caught(this.#keep.catchUp(record), false)
  }

  persist(): void {
    const { state } = this.#page
    if (state === GONE) return
    this.#page.persistent = true
    // Leaving decides what is sealed (nothing while another origin is shown); back from
    // the cache, or after a navigation that did not happen, the page seals again, and
    // once it holds the tab's state if it waits for a key.
    if (state !== LEAVING && state !== FROZEN && !this.#opening) this.#keep.place('next')
  }

  changed(): void {
    const page = this.#page
    page.dirty = true
    if (this.#opening) this.#opening.changed = true
    if (page.swapped) page.swapped.changed = true
    if (page.left) page.left.changed = true
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.#host.hold()
      try {
        this.#settle()
      } finally {
        this.#host.release()
      }
    })
  }

  /** After the changes of a task: what was sealed or recorded must not outlive them. */
  #settle(): void {
    const page = this.#page
    // A change while the page waits for a key: it made its state its own, an older one.
    if (this.#opening?.changed) this.#abandon()
    // After `pagehide` (an app's own handler: a logout as the page goes), what was left
    // for the next page must not outlive the change: placed again, where the page went.
    if (page.left) {
      if (page.left.changed) {
        page.left.changed = false
        this.#keep.place(page.left.intent)
      }
      return
    }
    // A traversal sealed at `pageswap` (an app's own `pageswap` handler): sealed again now,
    // as Chromium shows the restored page before this one's `pagehide`.
    if (page.state === LEAVING && page.swapped?.changed) {
      this.#keep.place('traverse')
      page.swapped.changed = false
    }
    // Otherwise, once the page announced where it goes, leaving decides what is sealed.
    if (page.state !== ACTIVE && page.state !== HIDDEN) return
    // A state sealed by persist() or while hidden must not outlive a change; otherwise
    // the record only needs to know whether the tab holds keys (a crash then is told).
    if (page.persistent || page.sealedHidden) this.#keep.place('next')
    else if (this.#host.size() > 0 !== page.recordedKeys) this.#keep.record('live')
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
    this.#page.left = undefined
    this.#stopWaiting()
    this.#tab.publish(this.#peers.id, undefined)
    this.#peers.forget()
    this.#listen('removeEventListener')
    this.#departure.end()
    this.#tab.unseal()
    // An empty state of a new generation: pages of the tab in the cache drop theirs.
    this.#page.dirty = true
    this.#keep.record('live')
    this.#share.hide()
    this.#share.bytes.fill(0)
  }
}
