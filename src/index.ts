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
export { KeystoreError, isKeystoreError } from './errors'
export type { ErrorCode, LibraryError } from './errors'
export type { EverywhereOptions, KeyName, Schema, SessionKeystoreOptions, Stored, ValueOf } from './schema'
export type { Bytes, Value } from './encoding'
export type {
  ClearedEvent,
  ClearReason,
  ErrorReason,
  KeyEvent,
  KeystoreErrorEvent,
  KeystoreEvents,
  Listener,
  PersistedEvent,
  RestoredEvent,
} from './events'
/** The same class as the named export: a drop-in for `import SessionKeystore from 'session-keystore'`. */
export default SessionKeystore
