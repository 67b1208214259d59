/**
 * What went wrong, for apps that handle errors without matching message text:
 * - `invalid-argument`: a bad argument or option (thrown as a `TypeError` or `RangeError`
 *   that carries this code and names the argument; nothing was changed);
 * - `destroyed`: the `SessionKeystore` was destroyed; `closed`: the `PersistentKeystore`
 *   was closed;
 * - `wrong-key`: the key does not open that persistent namespace (wrong, or revoked and
 *   reissued); nothing was deleted;
 * - `storage-unavailable`: there is no storage to use here (Node without an adapter);
 * - `storage-refused`: the storage threw while writing (full, or gone).
 */
export type ErrorCode =
  'invalid-argument' | 'destroyed' | 'closed' | 'wrong-key' | 'storage-unavailable' | 'storage-refused'

/**
 * The error the library throws for anything but a bad argument. Messages never contain a
 * key's value.
 *
 * @example
 * try {
 *   await PersistentKeystore.open({ namespace, key })
 * } catch (error) {
 *   if (error instanceof KeystoreError && error.code === 'wrong-key') await logout()
 * }
 */
export class KeystoreError extends Error {
  /** What went wrong (see `ErrorCode`). */
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'KeystoreError'
    this.code = code
  }
}

/** Names a bad argument for an error message without echoing it (it may be a secret). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return `a string of length ${value.length}`
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`
  return typeof value
}

/** Throws the `TypeError` (or with `range`, `RangeError`) for argument `what`, which must be `expected`. */
export function invalid(what: string, expected: string, got: unknown, range?: boolean): never {
  throw Object.assign(new (range ? RangeError : TypeError)(`${what} must be ${expected}; got ${describe(got)}`), {
    code: 'invalid-argument' as const,
  })
}
