/**
 * `tab-keystore/errors`: the error class and its codes without the store, for code that
 * only handles the library's errors (an error boundary, a logger, a retry policy) and
 * should not ship the core to do so.
 *
 * @example
 * import { KeystoreError } from 'tab-keystore/errors'
 *
 * if (error instanceof KeystoreError && error.code === 'wrong-key') await logout()
 *
 * @module
 */
export { KeystoreError } from './errors'
export type { ErrorCode } from './errors'
