import { at } from './expiry'

/**
 * `idleTimeout`: the store clears once that long has passed without a `get` or `set`. The
 * clock is checked on every access, by a timer (which may sleep with the machine or be
 * throttled in a hidden tab), and when the page is seen again; the last activity travels
 * with the keys, so time spent away counts too. While the page sits in the back/forward
 * cache, and until it has taken the tab's newer state on its return, its own last
 * activity says nothing (the user may have used the keys on a later page).
 */
export class Idle {
  /** Time of the last get or set, counted only with a timeout (a store without one is always "active now"). */
  #last = Date.now()
  #frozen = false
  #cancel: (() => void) | undefined
  readonly #timeout: () => number | undefined
  readonly #expire: () => void

  constructor(timeout: () => number | undefined, expire: () => void) {
    this.#timeout = timeout
    this.#expire = expire
  }

  get last(): number {
    return this.#timeout() ? this.#last : Date.now()
  }

  /** The last activity of the state taken from elsewhere (a seal, another tab), never later than now. */
  set last(at: number) {
    this.#last = Math.min(at, Date.now())
  }

  touch(): void {
    if (this.#timeout()) this.#last = Date.now()
  }

  /** Whether a state last active at `at` is past its idle time. */
  past(at: number): boolean {
    const timeout = this.#timeout()
    return Boolean(timeout && Date.now() - at >= timeout)
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

  /** (Re)starts the timer, from the last activity; a `timeout` turned on now counts from now. */
  arm(startingNow?: boolean): void {
    this.stop()
    if (startingNow) this.#last = Date.now()
    const timeout = this.#timeout()
    if (timeout) {
      this.#cancel = at(this.#last + timeout, () => {
        this.check()
        this.arm()
      })
    }
  }

  stop(): void {
    this.#cancel?.()
  }
}
