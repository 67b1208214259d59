/*
 * Imports nothing from the rest of the library: an app can catch and tell the library's
 * errors apart without loading the core.
 */

/**
 * What went wrong, for apps that handle errors without matching message text:
 * - `invalid-argument`: a bad argument or option, thrown as a `TypeError` (wrong type,
 *   unknown option) or a `RangeError` (right type, value out of range) that carries this
 *   code and names the argument; nothing was changed. Never a `KeystoreError`;
 * - `destroyed`: the `SessionKeystore` was destroyed; `closed`: the `PersistentKeystore`
 *   was closed;
 * - `wrong-key`: the key does not open that persistent namespace (wrong, or revoked and
 *   reissued); nothing was deleted;
 * - `storage-unavailable`: there is no storage to use here (Node without an adapter);
 * - `storage-refused`: the storage threw while writing (full, or gone).
 *
 * `isKeystoreError` tells them all apart, whatever their class.
 */
export type ErrorCode =
  'invalid-argument' | 'destroyed' | 'closed' | 'wrong-key' | 'storage-unavailable' | 'storage-refused'

/**
 * An error the library throws, by code: a `TypeError` or `RangeError` for
 * `invalid-argument`, a `KeystoreError` for the others.
 *
 * @example
 * function explain(error: LibraryError): string {
 *   return error.code === 'wrong-key' ? 'Wrong key' : error.message
 * }
 */
export type LibraryError<C extends ErrorCode = ErrorCode> = C extends 'invalid-argument'
  ? (TypeError | RangeError) & { readonly code: C }
  : KeystoreError & { readonly code: C }

/**
 * The error the library throws for anything but a bad argument (bad arguments throw a
 * `TypeError` or `RangeError`: catch both kinds with `isKeystoreError`). Messages never
 * contain a key's value.
 *
 * @example
 * try {
 *   await PersistentKeystore.open({ namespace, key })
 * } catch (error) {
 *   if (error instanceof KeystoreError && error.code === 'wrong-key') await logout()
 * }
 */
export class KeystoreError extends Error {
  /** What went wrong (see `ErrorCode`): anything but `invalid-argument`. */
  readonly code: Exclude<ErrorCode, 'invalid-argument'>
  constructor(code: Exclude<ErrorCode, 'invalid-argument'>, message: string) {
    super(message)
    this.name = 'KeystoreError'
    this.code = code
  }
}

/**
 * Whether `error` was thrown by this library (a `KeystoreError`, or a `TypeError` or
 * `RangeError` for a bad argument), and with `code`, whether it has that code; narrows
 * it to a type whose `code` says so. Known by name and code rather than by class, so
 * that it also holds for errors of another copy of the library (two versions installed
 * side by side) or of another realm (an iframe).
 *
 * @example
 * import { isKeystoreError } from 'tab-keystore'
 *
 * try {
 *   store.set('token', token, expiresAt)
 * } catch (error) {
 *   if (isKeystoreError(error, 'invalid-argument')) report(error.message) // a TypeError or RangeError
 *   else if (isKeystoreError(error)) console.warn(error.code)            // any other code of the library
 *   else throw error
 * }
 */
export function isKeystoreError<C extends ErrorCode = ErrorCode>(error: unknown, code?: C): error is LibraryError<C> {
  if (typeof error !== 'object' || error === null) return false
  const { name, code: own } = error as { name?: unknown; code?: unknown }
  if (code !== undefined && own !== code) return false
  return own === 'invalid-argument'
    ? name === 'TypeError' || name === 'RangeError'
    : name === 'KeystoreError' &&
        ['destroyed', 'closed', 'wrong-key', 'storage-unavailable', 'storage-refused'].includes(own as string)
}

/** Names a bad argument for an error message without echoing it (it may be a secret). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return `a string of length ${value.length}`
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`
  return typeof value
}

/** Throws the argument error `message`: a `TypeError`, or with `range` (right type, wrong value) a `RangeError`. */
export function refuse(message: string, range?: boolean): never {
  throw Object.assign(new (range ? RangeError : TypeError)(message), { code: 'invalid-argument' as const })
}

/** Throws the argument error for `what`, which must be `expected` (`range`: see `refuse`). */
export function invalid(what: string, expected: string, got: unknown, range?: boolean): never {
  refuse(`${what} must be ${expected}; got ${describe(got)}`, range)
}
