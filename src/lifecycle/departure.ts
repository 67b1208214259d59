import type { Intent, NavigateEventLike } from './placement'

/** How long a navigation to another origin may take before the page counts it as not happening. */
const STAY_AFTER = 3000

/** What a navigation event means for the page (machine.ts): where it goes, and whether it stays after all. */
export type Heard =
  | { to: 'announce'; intent: Intent; navigate?: NavigateEventLike }
  /** A navigation within the app: the page may stay yet (the app intercepts it, a 204, Stop); `undone` when it replaces one to another origin. */
  | { to: 'within'; intent: Intent; undone: boolean }
  | { to: 'stay' }

/**
 * Where the page goes, and whether it stays after all: the `navigate` event (Chromium,
 * Firefox), `pageswap` (Chromium, WebKit), `navigatesuccess`, and the 3-second rule for a
 * navigation to another origin that does not happen (a download, a 204, a slow answer,
 * Stop). Only a navigation's own end may undo it, and nothing undoes it after `pageswap`.
 */
export class Departure {
  /** The last `navigate` event, until `pageswap`. */
  #navigating: NavigateEventLike | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #stay: (heard: Heard) => void

  /** `stay` hears the 3-second rule's verdict, which comes later, from a timer. */
  constructor(stay: (heard: Heard) => void) {
    this.#stay = stay
  }

  /** What a navigation event means, `leaving` telling whether the page announced it goes. */
  hear(event: Event, leaving: boolean): Heard | undefined {
    if (event.type === 'pageswap') {
      // After `pageswap` the navigation happens: nothing undoes it.
      this.#navigating = undefined
      return { to: 'announce', intent: swapIntent(event) }
    }
    const navigate = event as unknown as NavigateEventLike
    // An app took over a navigation within itself. (Never one to another origin: those
    // cannot be intercepted, and only their own end may undo them.)
    if (event.type === 'navigatesuccess') return leaving ? undefined : this.#settle(this.#navigating)
    const intent = intentOf(navigate)
    if (!intent) return undefined
    // A `navigate` to another origin not yet under way (no `pageswap` yet) may be undone:
    // by a newer navigation within the origin, which replaces it, or by its timeout.
    const undone = leaving && this.#navigating !== undefined
    this.#navigating = navigate
    if (intent !== 'away') return { to: 'within', intent, undone }
    return { to: 'announce', intent, navigate }
  }

  /**
   * The page left `window.name` for another origin: only time says it stayed, not the
   * navigation's signal. Chromium and Firefox abort it whenever the next `navigate` fires,
   * also a same-document one (a `replaceState`, a hash) that leaves this navigation under
   * way (read in their sources; a download's abort only brings the share back 3 s later).
   */
  wait(navigate: NavigateEventLike): void {
    this.#timer = setTimeout(() => {
      const heard = this.#settle(navigate)
      if (heard) this.#stay(heard)
    }, STAY_AFTER)
  }

  /** The page announced a departure or is gone: no earlier wait counts any more. */
  cancel(): void {
    clearTimeout(this.#timer)
  }

  /** The page leaves (`pagehide`) or is destroyed: nothing is under way any more. */
  end(): void {
    this.cancel()
    this.#navigating = undefined
  }

  /** Navigation `navigate` ended (its timeout, or the app took it over) with this page still here. */
  #settle(navigate: NavigateEventLike | undefined): Heard | undefined {
    if (!navigate || navigate !== this.#navigating) return undefined
    this.end()
    return { to: 'stay' }
  }
}

/**
 * Whether other origins may read this window's name: a window another page opened, and a
 * frame, keep it across origins in all three engines (measured); Firefox and WebKit clear
 * it only for a top-level window without an opener.
 */
export const keepsName = (): boolean => window.opener != null || window.top !== window

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
