import type { Bytes, Value } from './encoding'
import type { IdlePlugin } from './idle'
import type { TabsPlugin } from './tabs/index'

/**
 * What a store holds: a union of key names (string values, as in `session-keystore`), or
 * an object type (a type alias or an interface) from key name to value type.
 *
 * @example
 * new SessionKeystore<'masterKey' | 'token'>()                       // string values
 * new SessionKeystore<{ masterKey: Uint8Array; token: string }>()    // typed per key
 */
export type Schema<S = unknown> = string | { [K in keyof S]: Value }

/**
 * The key names of a schema.
 *
 * @example
 * type N = KeyName<{ masterKey: Uint8Array }> // 'masterKey'
 */
export type KeyName<S> = S extends string ? S : Extract<keyof S, string>

/**
 * The value type stored under key `K` of schema `S`, as `set` takes it.
 *
 * @example
 * type V = ValueOf<{ masterKey: Uint8Array }, 'masterKey'> // Uint8Array
 */
export type ValueOf<S, K> = [S] extends [string] ? string : K extends keyof S ? S[K] : never

/**
 * A value as `get` hands it out: strings as they are, bytes as `Bytes` (a fresh copy on a
 * plain ArrayBuffer, which WebCrypto accepts).
 *
 * @example
 * const raw: Stored<Uint8Array> = store.get('masterKey')! // Uint8Array<ArrayBuffer>
 */
export type Stored<V> = V extends Uint8Array ? Bytes : V

/**
 * Options of `new SessionKeystore()`. The callbacks are those of `session-keystore`;
 * `callStack` is captured (an `Error().stack`) only when the callback is given.
 *
 * @example
 * const options: SessionKeystoreOptions<'token'> = { name: 'app', onExpired: (name) => lock(name) }
 */
export interface SessionKeystoreOptions<N extends string = string> {
  /** Namespace of the store, `'default'` unless given. Stores with different names coexist. */
  name?: string | undefined
  /** Every successful read (`get`). */
  onAccess?: ((name: N, callStack: string) => void) | undefined
  /** A value was created, replaced or deleted. */
  onChanged?: ((name: N, callStack: string) => void) | undefined
  /** A value expired. */
  onExpired?: ((name: N) => void) | undefined
  /**
   * Opt-in, from `tab-keystore/tabs`: a new tab of the same origin whose store is empty
   * asks the open tabs for this store's keys over a BroadcastChannel, and `clear`/`delete`
   * can act in every tab. Any same-origin script can listen on that channel.
   *
   * @example
   * import { tabs } from 'tab-keystore/tabs'
   * new SessionKeystore({ name: 'app', tabs })
   */
  tabs?: TabsPlugin | undefined
  /**
   * Opt-in, from `tab-keystore/idle`: clears the store after that long without a `get` or
   * `set` (a `cleared` event says why), time spent away included.
   *
   * @example
   * import { idle } from 'tab-keystore/idle'
   * new SessionKeystore({ name: 'app', idle: idle(15 * 60_000) })
   */
  idle?: IdlePlugin | undefined
  /**
   * Also seal while the page is hidden (the tab in the background, the phone locked), and
   * take the seal back when it is shown: a page that the browser kills in the background
   * (mobile browsers do, and desktop Chromium discards idle tabs) comes back with its keys
   * on reload. The cost: a sealed state at rest in sessionStorage (on disk in Chromium and
   * Firefox) for as long as the page is hidden. Off by default.
   */
  sealWhenHidden?: boolean | undefined
}

/**
 * Options of `clear()` and `delete()`.
 *
 * @example
 * store.clear({ everywhere: true }) // log out in every tab (needs the `tabs` option)
 */
export interface EverywhereOptions {
  /** Also in every other tab of this origin that opened the store with `tabs`. */
  everywhere?: boolean | undefined
}
