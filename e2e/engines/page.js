// What every engine's page can do, written once over one primitive: `run(source)`, which
// evaluates an expression in the page and resolves to the string it produced.
// Navigation happens from inside the page (as a link, a script or the user's Back button
// would), and the layer then waits for the next document to be ready: waiting on a
// driver's own navigation call hangs in Firefox when the page comes back from the
// back/forward cache (it fires no load).

const POLL_MS = 50

/** The expression that calls `fn(...args)` in the page and yields `{ value }` or `{ error }` as JSON. */
export const callSource = (fn, args) =>
  `(async () => { try { const value = await (${fn})(...${JSON.stringify(args)}); return JSON.stringify({ value: value === undefined ? null : value }) } catch (e) { return JSON.stringify({ error: String((e && e.stack) || e) }) } })()`

export class Page {
  #run
  #close
  #goto
  #back
  #crash

  /**
   * `run(source, { quick })` evaluates and returns a string; `goto(url)` and `back()` are the driver's
   * own navigations (the address bar and the Back button), which must not wait for a load.
   */
  constructor({ run, close, goto, back, crash }) {
    this.#run = run
    this.#close = close
    this.#goto = goto
    this.#back = back
    this.#crash = crash
  }

  /** Whether the engine can crash the page's renderer (Chromium, through CDP). */
  get canCrash() {
    return this.#crash !== undefined
  }

  /** Crashes the renderer, then reloads the tab as a user would; `window.name` and sessionStorage survive. */
  async crashAndReload() {
    this.#run = await this.#crash()
    await this.ready()
  }

  /** Calls `fn(...args)` in the page (args and result travel as JSON). */
  eval(fn, ...args) {
    return this.#call(fn, args)
  }

  /** `quick`: a poll, which the engine may abandon early and the caller retries. */
  async #call(fn, args, quick = false) {
    const text = await this.#run(callSource(fn, args), { quick })
    const { value, error } = JSON.parse(text)
    if (error !== undefined) throw new Error(`in the page: ${error}`)
    return value
  }

  /** Polls `fn(...args)` until it returns something truthy; errors while a document changes are retried. */
  async waitFor(fn, args = [], { timeout = 10_000, message } = {}) {
    const deadline = Date.now() + timeout
    let last
    for (;;) {
      try {
        const value = await this.#call(fn, args, true)
        if (value) return value
        last = undefined
      } catch (error) {
        last = error
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeout} ms waiting for ${message ?? fn.toString().slice(0, 120)}${last ? ` (last error: ${last.message.slice(0, 300)})` : ''}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }

  /** Waits for the test page's `window.ready`, and fails with the page's own start error if it has one. */
  async ready() {
    await this.waitFor(() => window.ready === true || window.startError !== undefined, [], { message: 'window.ready' })
    const startError = await this.eval(() => window.startError ?? null)
    if (startError) throw new Error(`the page failed to create its store: ${startError}`)
  }

  /** Driver navigation (the address bar): a fresh load. */
  async goto(url, { ready = true } = {}) {
    await this.#goto(url)
    if (ready) await this.ready()
  }

  /**
   * Runs `action` in the page (a navigation it starts) and waits until another document is
   * shown: a new one, or one back from the back/forward cache (it carries an older mark).
   */
  async #leave(action, arg, { ready = true } = {}) {
    const mark = Math.random().toString(36).slice(2)
    await this.eval(
      (mark, action, arg) => {
        window.__leftWith = mark
        // Later, so that the evaluation returns before the document goes.
        if (action) setTimeout(() => new Function('arg', action)(arg), 0)
      },
      mark,
      action,
      arg,
    )
    if (!action) void this.#back().catch(() => undefined)
    await this.waitFor((mark) => document.readyState !== 'loading' && window.__leftWith !== mark, [mark], {
      message: 'the next document',
    })
    if (ready) await this.ready()
  }

  /** Follows a link to `url`, as the user clicking it would. */
  navigate(url, options) {
    return this.#leave(
      'const a = document.createElement("a"); a.href = arg; document.body.append(a); a.click()',
      url,
      options,
    )
  }

  click(selector, options) {
    return this.#leave('document.querySelector(arg).click()', selector, options)
  }

  reload(options) {
    return this.#leave('location.reload()', null, options)
  }

  back(options) {
    return this.#leave('history.back()', null, options)
  }

  /** The browser's Back button rather than `history.back()`. */
  backButton(options) {
    return this.#leave(null, null, options)
  }

  forward(options) {
    return this.#leave('history.forward()', null, options)
  }

  /** `history.go(delta)`: several entries at once. */
  go(delta, options) {
    return this.#leave('history.go(arg)', delta, options)
  }

  /** Waits `ms` of wall-clock time (for the page, not the test). */
  sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms))
  }

  close() {
    return this.#close()
  }
}
