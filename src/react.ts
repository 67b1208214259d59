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
import type { SessionKeystore } from './keystore'
import type { KeyName, Schema, Stored, ValueOf } from './schema'

/**
 * The value under `name`, or `null`, re-rendering the component when the store changes
 * (set, delete, expiry, clear, restore, handoff). The value keeps its identity until the
 * store changes, so it can go in effect dependencies, and it is read from the store (one
 * `read` event for audit listeners) when the component mounts and after each change,
 * not on every render. React StrictMode runs that read twice in development.
 *
 * @example
 * const token = useKey(store, 'token')
 */
export function useKey<S extends Schema<S>, K extends KeyName<S>>(
  store: SessionKeystore<S>,
  name: K,
): Stored<ValueOf<S, K>> | null {
  const version = useSyncExternalStore(
    store.subscribe,
    () => store.version,
    () => store.version,
  )
  // `version` is in the dependencies because it is what says the value changed.
  return useMemo(() => store.get(name), [store, name, version])
}

/**
 * Whether the store is waiting for another tab to hand its keys over (the `tabs` option;
 * at most about a second after the page loads): show a spinner rather than a login
 * form meanwhile.
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
