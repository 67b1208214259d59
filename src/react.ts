/**
 * `tab-keystore/react`: hooks for React 18 and later (an optional peer dependency).
 *
 * @example
 * import { useKey, usePending } from 'tab-keystore/react'
 *
 * function Unlocked({ store }: { store: SessionKeystore<{ masterKey: Uint8Array }> }) {
 *   const masterKey = useKey(store, 'masterKey')   // re-renders when it changes
 *   const waiting = usePending(store)              // a new tab waiting for another tab's keys
 *   return waiting ? <Spinner /> : masterKey ? <Vault masterKey={masterKey} /> : <Login />
 * }
 *
 * @module
 */
import { useMemo, useSyncExternalStore } from 'react'
import type { KeyEvent } from './events'
import type { SessionKeystore } from './keystore'
import type { KeyName, Schema, Stored, ValueOf } from './schema'

/** Per store, the version at the last change of each key (under `undefined`: of the last `restored`). */
const changes = /* @__PURE__ */ new WeakMap<object, Map<string | undefined, number>>()

/**
 * The changes of `store`, heard from its per-key events: telling a change by reading the
 * value would emit `read`. Listened to once per store, from the first render that asks,
 * so no change between a render and the subscription goes unheard; the listeners go
 * with the store's `destroy()`.
 */
function changesOf<S extends Schema<S>>(store: SessionKeystore<S>): Map<string | undefined, number> {
  let changed = changes.get(store)
  if (!changed) {
    changes.set(store, (changed = new Map()))
    // A handoff from another tab puts its keys without per-key events: any `restored`
    // counts as a change of every key (one more read on a load, a return or a handoff,
    // cheaper in bytes than telling which keys came).
    for (const event of ['created', 'updated', 'deleted', 'expired', 'restored'] as const)
      store.on(event, (event) => void changed!.set((event as Partial<KeyEvent>).name, store.version))
  }
  return changed
}

/**
 * The value under `name`, or `null`, re-rendering the component only when that key
 * changes (its value, its expiry, its presence: set, delete, expiry, clear, restore,
 * handoff), not when another key does. The value keeps its identity until then, so it can
 * go in effect dependencies; it is read from the store (one `read` event for audit
 * listeners) when the component mounts and after each change of the key, not on every
 * render (twice under StrictMode in development). While React hydrates server-rendered
 * HTML it is `null`, as the server's store (memory-only) rendered it; the client's value
 * follows right after.
 *
 * @example
 * const token = useKey(store, 'token')
 */
export function useKey<S extends Schema<S>, K extends KeyName<S>>(
  store: SessionKeystore<S>,
  name: K,
): Stored<ValueOf<S, K>> | null {
  const snapshot = useSyncExternalStore(
    store.subscribe,
    () => {
      const changed = changesOf(store)
      // Setting the same value with a new expiry emits no per-key event: the expiry (0 when
      // none or no key) is part of the snapshot. Asked first, as that may expire the key
      // (an event heard above), so that a second call returns the same.
      return `${+store.expiresAt(name)!} ${changed.get(name)} ${changed.get(undefined)}`
    },
    // During hydration (and on the server): no key, whatever the client's store holds.
    () => '',
  )
  return useMemo(() => (snapshot ? store.get(name) : null), [store, name, snapshot])
}

/**
 * Whether the store is waiting for another tab to hand its keys over (the `tabs` option;
 * at most about a second after the page loads): show a spinner rather than a login
 * form meanwhile. False on the server and while React hydrates, as the server rendered.
 *
 * @example
 * if (usePending(store)) return <Spinner />
 */
export function usePending<S extends Schema<S>>(store: SessionKeystore<S>): boolean {
  return useSyncExternalStore(
    store.subscribe,
    () => store.pending,
    () => false,
  )
}
