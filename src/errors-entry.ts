/**
 * `tab-keystore/errors`: the error class and its codes without the store, for code that
 * only handles the library's errors (an error boundary, a logger, a retry policy) and
 * should not ship the core to do so.
 *
 * @example
 * import { isKeystoreError } from 'tab-keystore/errors'
 *
 * if (isKeystoreError(error, 'wrong-key')) await logout()
 *
 * @module
 */
export { KeystoreError, isKeystoreError } from './errors'
export type { ErrorCode, LibraryError } from './errors'
