/**
 * tab-keystore: secret keys in browser memory that survive a reload of the tab,
 * vanish when it closes, and never reach the disk in a readable form.
 *
 * @example
 * import { SessionKeystore } from 'tab-keystore'
 * const store = new SessionKeystore<'masterKey' | 'token'>({ name: 'app' })
 *
 * @module
 */
import { SessionKeystore } from './keystore'

export { SessionKeystore }
export type { EverywhereOptions, KeyName, Schema, SessionKeystoreOptions, ValueOf } from './keystore'
export type { Value } from './encoding'
export type { StoreInternals, TabsLink, TabsPlugin } from './tabs'
export type {
  ClearedEvent,
  ClearReason,
  ErrorEvent,
  ErrorReason,
  KeyEvent,
  KeystoreEvents,
  Listener,
  PersistedEvent,
  RestoredEvent,
} from './events'
/** The same class as the named export: a drop-in for `import SessionKeystore from 'session-keystore'`. */
export default SessionKeystore
