import { afterEach, beforeEach, vi } from 'vitest'
import type { KeystoreErrorEvent, SessionKeystore, SessionKeystoreOptions } from '../../src/index'

// happy-dom has no real page lifecycle: a "page" here is a fresh copy of the modules with
// the previous page's listeners removed, and the browser's events are dispatched by hand.
// This checks the protocol; e2e/ proves the behaviour in Chromium, Firefox and WebKit.

type Listener = [EventTarget, string, EventListenerOrEventListenerObject]
let listeners: Listener[] = []
let stores: SessionKeystore[] = []

const pageswapProperty = Object.getOwnPropertyDescriptor(window, 'onpageswap')

/**
 * Which engine the page plays: with `pageswap` (Chromium, WebKit), or without (Firefox,
 * the default here: the tests dispatch `pageswap` by hand where they mean it). A page
 * tells a departure nobody announced by the engine's having the event.
 */
export function hasPageswap(has: boolean): void {
  if (!has) delete (window as unknown as Record<string, unknown>)['onpageswap']
  else if (pageswapProperty) Object.defineProperty(window, 'onpageswap', pageswapProperty)
}

/** Records every listener a page adds, so that leaving the page can remove them. */
export function trackListeners(): void {
  hasPageswap(false)
  for (const target of [window, document] as EventTarget[]) {
    if (vi.isMockFunction(target.addEventListener)) continue
    const add = target.addEventListener.bind(target)
    vi.spyOn(target, 'addEventListener').mockImplementation(
      (type: string, listener: EventListenerOrEventListenerObject | null) => {
        if (!listener) return
        listeners.push([target, type, listener])
        add(type, listener)
      },
    )
  }
}

export interface Opened {
  store: SessionKeystore
  errors: KeystoreErrorEvent['reason'][]
  events: string[]
}

/** A new page of the tab, with its store: the modules are loaded afresh, as a page load does. */
export async function open(options: SessionKeystoreOptions = {}): Promise<Opened> {
  vi.resetModules()
  const { SessionKeystore } = await import('../../src/index')
  const store = new SessionKeystore<Record<string, string | Uint8Array>>({ name: 'app', ...options })
  stores.push(store)
  const errors: KeystoreErrorEvent['reason'][] = []
  const events: string[] = []
  store.on('error', ({ reason }) => errors.push(reason))
  for (const event of ['created', 'updated', 'deleted', 'expired'] as const)
    store.on(event, ({ name }) => events.push(`${event}:${name}`))
  store.on('restored', ({ count, source }) => events.push(`restored:${source}:${count}`))
  store.on('cleared', ({ reason, count }) => events.push(`cleared:${reason}:${count}`))
  await Promise.resolve() // restore events are delivered in a microtask after construction
  return { store, errors, events }
}

export const fire = (type: string, init: Record<string, unknown> = {}, target: EventTarget = window): boolean =>
  target.dispatchEvent(Object.assign(new Event(type), init))

/** The page goes as the browser makes it go: `pagehide` (unless it crashed), then the document is gone. */
export function leave({ hide = true, persisted = false }: { hide?: boolean; persisted?: boolean } = {}): void {
  if (hide) fire('pagehide', { persisted })
  for (const [target, type, listener] of listeners) target.removeEventListener(type, listener)
  listeners = []
  stores = []
}

/** A page the back/forward cache keeps: its listeners, detached while another page of the tab runs. */
export interface Cached {
  listeners: Listener[]
  stores: SessionKeystore[]
}

/** The page goes into the back/forward cache (`pagehide`, persisted), where it hears nothing. */
export function cache(): Cached {
  fire('pagehide', { persisted: true })
  const kept = { listeners, stores }
  for (const [target, type, listener] of listeners) target.removeEventListener(type, listener)
  listeners = []
  stores = []
  return kept
}

/** The page shown goes (without the cache), and `page` comes back from the cache (`pageshow`, persisted). */
export function comeBack(page: Cached, { hide = true }: { hide?: boolean } = {}): void {
  leave({ hide })
  for (const [target, type, listener] of page.listeners) target.addEventListener(type, listener)
  stores = page.stores
  fire('pageshow', { persisted: true })
}

/** Destroys what the test left open, without leaving anything for the next test. */
export function cleanUp(): void {
  for (const store of stores) store.destroy()
  leave({ hide: false })
  window.name = ''
  sessionStorage.clear()
  localStorage.clear()
}

/** Each test of the file starts with a fresh tab and leaves nothing behind: mocks, globals, timers, storage. */
export function freshTabs(): void {
  beforeEach(() => {
    cleanUp()
    trackListeners()
  })
  afterEach(() => {
    vi.restoreAllMocks()
    vi.unstubAllGlobals()
    vi.useRealTimers()
    cleanUp()
  })
}

/** A fake Navigation API: the page's same-origin history (`entries`, the current one last), arrived from `from`. */
export function fakeNavigation(
  from: string | null,
  entries: string[],
): {
  navigate(
    url: string,
    init?: { navigationType?: string; downloadRequest?: string; sameDocument?: boolean },
  ): AbortController
  succeed(): void
} {
  const listeners: [string, EventListenerObject][] = []
  let ongoing: AbortController | undefined
  const dispatch = (event: Event): void => {
    for (const [type, listener] of listeners) if (type === event.type) listener.handleEvent(event)
  }
  vi.stubGlobal('navigation', {
    currentEntry: { key: entries.at(-1) },
    activation: { from: from === null ? null : { key: from } },
    entries: () => entries.map((key) => ({ key })),
    addEventListener: (type: string, listener: EventListenerObject) => listeners.push([type, listener]),
    removeEventListener() {},
  })
  return {
    navigate(url, { navigationType = 'push', downloadRequest, sameDocument = false } = {}) {
      // As Chromium and Firefox do: the ongoing navigation's signal is aborted before the
      // next `navigate` fires, whatever that one is.
      ongoing?.abort()
      const controller = (ongoing = new AbortController())
      dispatch(
        Object.assign(new Event('navigate'), {
          destination: { url, sameDocument },
          navigationType,
          signal: controller.signal,
          downloadRequest: downloadRequest ?? null,
        }),
      )
      return controller
    },
    /** The app intercepted the last navigation, and it committed within the document. */
    succeed: () => dispatch(new Event('navigatesuccess')),
  }
}

const KEY = /^tab-keystore\/tab\/([0-9a-f]{16})\/app$/

/** The tab's record for store `app`, parsed. */
export function record(): Record<string, unknown> | undefined {
  const key = Object.keys(localStorage).find((k) => KEY.test(k))
  return key ? JSON.parse(localStorage.getItem(key)!) : undefined
}

/** The `storage` event another page's write of the record fires here: its key and the value written. */
export function recordWritten(newValue: string = JSON.stringify(record() ?? null)): void {
  fire('storage', { key: Object.keys(localStorage).find((k) => KEY.test(k)), newValue })
}

export function setRecord(change: Record<string, unknown>): void {
  const key = Object.keys(localStorage).find((k) => KEY.test(k))!
  localStorage.setItem(key, JSON.stringify({ ...record(), ...change }))
}

/**
 * Runs `action` (until it settles, if it is async) while `storage` refuses the writes
 * `refused` picks, as a full storage does (QuotaExceededError). By hand: happy-dom's Storage proxy cannot delete an own property, so
 * a vi.spyOn would outlive the test.
 */
export function refusing<T>(storage: Storage, refused: (key: string, value: string) => boolean, action: () => T): T {
  const setItem = storage.setItem.bind(storage)
  Object.defineProperty(storage, 'setItem', {
    configurable: true,
    writable: true,
    value: (key: string, value: string) => {
      if (refused(key, value)) throw new DOMException('full', 'QuotaExceededError')
      setItem(key, value)
    },
  })
  const restore = (): void =>
    void Object.defineProperty(storage, 'setItem', { configurable: true, writable: true, value: setItem })
  let result: T
  try {
    result = action()
  } catch (error) {
    restore()
    throw error
  }
  // An async action refuses until it settles (a microtask that writes, say).
  if (result instanceof Promise) return result.finally(restore) as T
  restore()
  return result
}

export const shareOf = (name: string = 'app'): string => JSON.parse(window.name)[`tab-keystore:${name}`]
