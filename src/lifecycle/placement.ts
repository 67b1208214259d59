import type { ErrorReason } from '../events'
import { type OpenFailure, open } from '../seal'
import type { readShare } from '../share'
import type { TabRecord } from './tab'

/*
 * What a page makes of what the tab holds: the decisions of the lifecycle, in terms of
 * the tab's record (tab.ts), with no I/O of their own. The rule they keep (DESIGN.md):
 * a page shows keys only while they are the tab's latest state, and says so when keys are
 * lost.
 */

/** Where a leaving page goes, as far as the engine told it (machine.ts). */
export type Intent = 'next' | 'traverse' | 'away'

/** The part of the Navigation API used here (Chromium, Firefox; not WebKitGTK 2.50). */
export interface NavigationLike {
  readonly currentEntry: { readonly key: string } | null
  readonly activation?: { readonly from: { readonly key: string } | null } | null
  entries(): { readonly key: string }[]
  addEventListener(type: 'navigate' | 'navigatesuccess', listener: EventListenerObject): void
  removeEventListener(type: 'navigate' | 'navigatesuccess', listener: EventListenerObject): void
}

export interface NavigateEventLike {
  readonly destination: { readonly url: string; readonly sameDocument: boolean }
  readonly navigationType: string
  /** Non-null for a download: the page stays. */
  readonly downloadRequest?: string | null
}

export const navigation = (): NavigationLike | undefined => (window as { navigation?: NavigationLike }).navigation

/**
 * A seal's context: the generation of the state it holds, and the history entry of the
 * page that sealed it (`navigation.currentEntry.key`; `''` without the Navigation API).
 */
export const context = (gen: string): string => `${gen} ${navigation()?.currentEntry?.key ?? ''}`

/**
 * Whether a seal of context `sealed` may be opened here, and holds generation `gen` (any,
 * when the tab keeps no record). The sealing entry must be in this page's same-origin
 * history: `navigation.entries()`, or `activation.from` after a crash-reload (which gives
 * the page a new entry). A page reached through another origin, or a window another page
 * opened, starts a history of its own: a visited site that forks the tab into a window
 * with a copy of its sessionStorage and its `window.name` (Chromium lets it read both)
 * opens nothing. Without the Navigation API seals are unbound (`''`), and bound ones
 * cannot come from this engine.
 */
const checker =
  (gen: string | undefined) =>
  (sealed: string): OpenFailure | undefined => {
    const at = sealed.indexOf(' ')
    const entry = sealed.slice(at + 1)
    const nav = navigation()
    const allowed = nav
      ? entry !== '' && (nav.activation?.from?.key === entry || nav.entries().some((e) => e.key === entry))
      : entry === ''
    if (!allowed) return 'left-origin'
    if (gen !== undefined && sealed.slice(0, at) !== gen) return 'outdated'
    return undefined
  }

/** What a page back from the cache makes of the tab's record (`catchUp`). */
export type Outcome = 'current' | 'empty' | 'stale' | 'unrecorded' | { plain: Uint8Array }

export type Loaded = { plain: Uint8Array } | { error: ErrorReason } | undefined

/**
 * A fresh page of the tab: the latest state, from the seal the previous page left in
 * sessionStorage (`sealed`) or in the record. Nothing, when the latest state is empty;
 * the reason, when it had keys that cannot be had: they stayed with a page that left for
 * another origin (`left-origin`), did not fit (`quota`), or the page holding them died
 * without sealing them (`lost`: a crash, a kill, a `pagehide` cut short). Without the
 * record the tab had (`null`: cleared, or a write refused) nothing can be vouched for: a
 * seal is dropped, and the page says so (`unrecorded`), seal or not. Without a record at
 * all (a new tab) a seal is opened unbound to a generation: only a copy of another tab's
 * sessionStorage can hold one, and its history binding and share decide.
 */
export function load(
  record: TabRecord | undefined | null,
  sealed: string | null,
  share: ReturnType<typeof readShare>,
  name: string,
): Loaded {
  // Told even without a seal: the keys may have stayed with a page whose record write was
  // refused (a page gone to another origin, say). An app that cleared localStorage at
  // logout hears it once, for nothing lost: told rather than silent.
  if (record === null) return { error: 'unrecorded' }
  if (record && !record.n) return undefined
  if (record?.w === 'away') return { error: 'left-origin' }
  if (record?.w === 'quota') return { error: 'quota' }
  const text = record?.w === 'slot' ? record.s! : sealed
  if (text === null) return record && { error: 'lost' }
  // Gone or rewritten: Firefox and WebKit clear `window.name` on a navigation to another
  // origin, and any site the tab visited could have rewritten it.
  if (!share) return { error: share === null ? 'tampered' : 'missing-share' }
  // A page of the tab left for another origin from here; Firefox gives a page reached by a
  // traversal the name its entry had, so this one may be an earlier entry's.
  if (share === 'away') return { error: 'left-origin' }
  const opened = open(text, share, name, checker(record?.g))
  if (typeof opened !== 'string') return { plain: opened }
  return { error: opened === 'outdated' ? 'lost' : opened }
}

/**
 * A page back from the back/forward cache, holding generation `gen`: `current` when it
 * missed no change; otherwise the latest state if it can be opened here (sealed for a
 * traversal, or in sessionStorage where the engine shows this page later writes), `empty`
 * when the latest state is, and `stale` when it has keys this page cannot have. Never
 * `current` without a record: one that is gone (an app cleared localStorage at logout, a
 * write was refused) vouches for nothing (`unrecorded`).
 */
export function catchUp(
  record: TabRecord | undefined | null,
  gen: string,
  sealed: string | null,
  share: Uint8Array,
  name: string,
): Outcome {
  if (!record) return 'unrecorded'
  if (record.g === gen) return 'current'
  if (!record.n) return 'empty'
  const text = record.w === 'slot' ? record.s! : record.w === 'sealed' ? sealed : null
  const opened = text === null ? 'stale' : open(text, share, name, checker(record.g))
  return typeof opened === 'string' ? 'stale' : { plain: opened }
}
