/*
 * The idle lock behind the `idle` option: its public part is `tab-keystore/idle`
 * (idle-entry.ts); the store uses the rest (`IdleLink`, `IdleConnect`).
 */
import { invalid } from './errors'
import { at } from './expiry'

declare const plugin: unique symbol

/**
 * The type of the `idle` option: opaque on purpose, its insides are not an API.
 *
 * @example
 * const options: { idle?: IdlePlugin } = { idle: idle(15 * 60_000) }
 */
export interface IdlePlugin {
  readonly [plugin]: 'tab-keystore/idle'
}

/** What the store gets from the `idle` option: its insides, not a public API. */
export interface IdleLink {
  /** Time of the last get or set; set to that of a state taken from elsewhere (never later than now). */
  last: number
  touch(): void
  /** Whether a state last active at `at` is past its idle time. */
  past(at: number): boolean
  /** Clears the store (the `expire` it was connected with) once the idle time has passed. */
  check(): void
  /** In the back/forward cache, or coming back from it: no verdict until the return is handled. */
  freeze(frozen: boolean): void
  /** For good: its timer and its listeners go. */
  stop(): void
}

/** What the `idle` export really returns; the public type hides it. */
export type IdleConnect = (expire: () => void, last?: number) => IdleLink

/**
 * The store clears once `timeout` has passed without a `get` or `set`. The clock is checked
 * on every access, by a timer (which may sleep with the machine or be throttled in a
 * hidden tab), and when the page is seen again; the last activity travels with the keys,
 * so time spent away counts too. While the page sits in the back/forward cache, and until
 * it has taken the tab's newer state on its return, its own last activity says nothing
 * (the user may have used the keys on a later page).
 */
class Idle implements IdleLink {
  #last: number
  #frozen = false
  #cancel: (() => void) | undefined
  readonly #timeout: number
  readonly #expire: () => void

  constructor(timeout: number, expire: () => void, last = Date.now()) {
    this.#timeout = timeout
    this.#expire = expire
    this.#last = last
    this.#arm()
    // Timers sleep with the machine and are throttled in hidden tabs: the clock is looked
    // at again as soon as the page is seen. (Listening before the store ties itself to the
    // tab, it hears a return from the back/forward cache first, while still frozen: the
    // one verdict is the lifecycle's `freeze(false)`, once the tab's state is taken.)
    this.#listen('addEventListener')
  }

  #listen(method: 'addEventListener' | 'removeEventListener'): void {
    if (typeof document !== 'object') return
    window[method]('pageshow', this)
    document[method]('visibilitychange', this)
  }

  handleEvent(): void {
    this.check()
  }

  get last(): number {
    return this.#last
  }

  set last(at: number) {
    this.#last = Math.min(at, Date.now())
  }

  touch(): void {
    this.#last = Date.now()
  }

  past(at: number): boolean {
    return Date.now() - at >= this.#timeout
  }

  check(): void {
    if (this.#frozen || !this.past(this.#last)) return
    this.#last = Date.now()
    this.#expire()
  }

  freeze(frozen: boolean): void {
    this.#frozen = frozen
    this.check()
  }

  #arm(): void {
    this.#cancel = at(this.#last + this.#timeout, () => {
      this.check()
      this.#arm()
    })
  }

  stop(): void {
    this.#cancel?.()
    this.#listen('removeEventListener')
  }
}

/**
 * The `idle` option of `SessionKeystore`: clear the store after `timeout` milliseconds
 * without a `get` or `set` (a `cleared` event of reason `idle` says so), time spent away
 * from the page included.
 *
 * @example
 * import { SessionKeystore } from 'tab-keystore'
 * import { idle } from 'tab-keystore/idle'
 *
 * const store = new SessionKeystore({ name: 'app', idle: idle(15 * 60_000) })
 */
export function idle(timeout: number): IdlePlugin {
  if (typeof timeout !== 'number') invalid('timeout', 'a positive number of milliseconds', timeout)
  if (!(timeout > 0 && timeout < Infinity)) invalid('timeout', 'a positive number of milliseconds', timeout, true)
  const connect: IdleConnect = (expire, last) => new Idle(timeout, expire, last)
  return connect as unknown as IdlePlugin
}
