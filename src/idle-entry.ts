/**
 * `tab-keystore/idle`: the opt-in `idle` option of `SessionKeystore`, in its own entry
 * point so that apps without it do not ship it. This file, not ./idle, is the entry: the
 * store needs that module's insides (`IdleLink`, `IdleConnect`), which its public
 * declarations must not show.
 *
 * @example
 * import { SessionKeystore } from 'tab-keystore'
 * import { idle } from 'tab-keystore/idle'
 *
 * const store = new SessionKeystore({ name: 'app', idle: idle(15 * 60_000) })
 *
 * @module
 */
export { idle } from './idle'
export type { IdlePlugin } from './idle'
