// Type tests: checked by `tsc` in `npm test` (a `@ts-expect-error` that is not an error
// fails the build), never run. See tsconfig.json `include` (strict, exactOptionalPropertyTypes).
import { expectTypeOf } from 'vitest'
import { type KeyEvent, KeystoreError, SessionKeystore, isKeystoreError } from '../src/index'
import * as errorsEntry from '../src/errors'
import type * as Index from '../src/index'
import * as tabsEntry from '../src/tabs/index'
import { PersistentKeystore } from '../src/persistent/index'

// Union form: key names typed, values are strings (as in session-keystore).
const names = new SessionKeystore<'masterKey' | 'token'>({
  name: 'types-a',
  onAccess: (name, callStack) => {
    expectTypeOf(name).toEqualTypeOf<'masterKey' | 'token'>()
    expectTypeOf(callStack).toEqualTypeOf<string>()
  },
  onExpired: (name) => expectTypeOf(name).toEqualTypeOf<'masterKey' | 'token'>(),
})
names.set('masterKey', 'secret')
expectTypeOf(names.get('token')).toEqualTypeOf<string | null>()
expectTypeOf(names.get('token', Date.now())).toEqualTypeOf<string | null>() // session-keystore's clock argument
expectTypeOf(names.keys()).toEqualTypeOf<('masterKey' | 'token')[]>()
// @ts-expect-error: unknown key name
names.set('other', 'x')
// @ts-expect-error: unknown key name
names.get('other')
// @ts-expect-error: unknown key name
names.delete('other')
// @ts-expect-error: union form holds strings
names.set('token', new Uint8Array(1))
// @ts-expect-error: expiry is a Date or a number
names.set('token', 'x', '2030-01-01')

// Record form: each key has its own value type.
const typed = new SessionKeystore<{ masterKey: Uint8Array; token: string }>({ name: 'types-b' })
typed.set('masterKey', new Uint8Array(32))
typed.set('masterKey', new Uint8Array(new SharedArrayBuffer(32))) // any Uint8Array goes in
typed.set('token', 'abc', new Date())
// Bytes come out on a plain ArrayBuffer, which WebCrypto takes (TS2769 with TypeScript >= 5.7 before).
expectTypeOf(typed.get('masterKey')).toEqualTypeOf<Uint8Array<ArrayBuffer> | null>()
export const imported: Promise<CryptoKey> = crypto.subtle.importKey('raw', typed.get('masterKey')!, 'HKDF', false, [
  'deriveBits',
])
expectTypeOf(typed.get('token')).toEqualTypeOf<string | null>()
// @ts-expect-error: masterKey holds bytes
typed.set('masterKey', 'a string')
// @ts-expect-error: token holds a string
typed.set('token', new Uint8Array(1))
// @ts-expect-error: unknown key name
typed.get('nope')

// An interface works as a schema, not only a type alias (TS2344 before).
interface Keys {
  masterKey: Uint8Array
  token: string
}
const fromInterface = new SessionKeystore<Keys>({ name: 'types-c' })
expectTypeOf(fromInterface.get('token')).toEqualTypeOf<string | null>()
// @ts-expect-error: a schema holds strings and bytes only
new SessionKeystore<{ count: number }>()

// exactOptionalPropertyTypes: an option may be given as undefined, as the runtime accepts.
declare const multiTab: boolean
new SessionKeystore({ name: 'types-d', tabs: multiTab ? tabsEntry.tabs : undefined, idle: undefined })
// @ts-expect-error: tabs is the plugin, not a flag
new SessionKeystore({ tabs: true })

// Events: payloads typed by event, key names typed.
typed.on('created', (event) => expectTypeOf(event).toEqualTypeOf<KeyEvent<'masterKey' | 'token'>>())
typed.on('restored', ({ count, expired, source }) => {
  expectTypeOf(count + expired).toBeNumber()
  expectTypeOf(source).toEqualTypeOf<'reload' | 'history' | 'tab' | 'none'>()
})
typed.on('error', ({ reason }) => expectTypeOf(reason).toExtend<string>())
// @ts-expect-error: unknown event
typed.on('changed', () => undefined)
// @ts-expect-error: the restored payload has no name
typed.on('restored', ({ name }) => name)

// For UI frameworks: subscribe (bound, returns the unsubscribe), version, pending.
const { subscribe } = typed
expectTypeOf(subscribe(() => undefined)).toEqualTypeOf<() => void>()
expectTypeOf(typed.version).toBeNumber()
expectTypeOf(typed.pending).toBeBoolean()

// Errors carry a code: a KeystoreError never 'invalid-argument' (argument errors are
// TypeErrors and RangeErrors), so a check for it that can never match does not compile.
declare const caught: unknown
if (caught instanceof KeystoreError) {
  expectTypeOf(caught.code).toEqualTypeOf<Exclude<Index.ErrorCode, 'invalid-argument'>>()
  // @ts-expect-error: never true of a KeystoreError
  if (caught.code === 'invalid-argument') void caught
}
// isKeystoreError: every error of the library, narrowed to one whose code is typed.
if (isKeystoreError(caught)) {
  expectTypeOf(caught.code).toEqualTypeOf<Index.ErrorCode>()
  expectTypeOf(caught.message).toBeString()
  if (caught.code === 'invalid-argument') expectTypeOf(caught).toExtend<TypeError | RangeError>()
  else expectTypeOf(caught).toExtend<KeystoreError>()
}
if (isKeystoreError(caught, 'wrong-key')) {
  expectTypeOf(caught.code).toEqualTypeOf<'wrong-key'>()
  expectTypeOf(caught).toExtend<KeystoreError>()
}
if (isKeystoreError(caught, 'invalid-argument')) expectTypeOf(caught.code).toEqualTypeOf<'invalid-argument'>()
// @ts-expect-error: not a code
isKeystoreError(caught, 'wrong-password')
// The same guard and types from the errors module alone (the core not loaded).
expectTypeOf(errorsEntry.isKeystoreError).toEqualTypeOf(isKeystoreError)
export type FromErrors = errorsEntry.LibraryError<'closed'>
// get takes its clock as set takes an expiry: a Date or epoch milliseconds.
expectTypeOf(names.get('token', new Date())).toEqualTypeOf<string | null>()
// @ts-expect-error: not a time
names.get('token', '2030-01-01')
// An option of 0.1 (idleTimeout) or a misspelt one does not compile (and throws at run time).
// @ts-expect-error: idle: idle(ms) from 'tab-keystore/idle' replaces it
new SessionKeystore({ name: 'types-e', idleTimeout: 1000 })

// Internals are not exports: neither of the tabs entry nor of the main one.
// @ts-expect-error: not exported
export const noConnect: unknown = tabsEntry.connectTabs
// @ts-expect-error: not exported
export type NoInternals = Index.StoreInternals
// @ts-expect-error: renamed KeystoreErrorEvent, so as not to shadow the DOM's ErrorEvent
export type NoShadow = Index.ErrorEvent

// The persistent tier emits only the per-key events and errors.
export async function persistent(): Promise<void> {
  const vault = await PersistentKeystore.open<{ masterKey: Uint8Array }>({
    namespace: 'n',
    key: new Uint8Array(32),
    storage: undefined,
  })
  expectTypeOf(await vault.get('masterKey')).toEqualTypeOf<Uint8Array<ArrayBuffer> | null>()
  vault.on('expired', ({ name }) => expectTypeOf(name).toEqualTypeOf<'masterKey'>())
  // @ts-expect-error: a PersistentKeystore never restores nor clears
  vault.on('restored', () => undefined)
}

// Untyped: any name, either value type.
const loose = new SessionKeystore()
loose.set('anything', new Uint8Array(1))
loose.set('else', 'text')
expectTypeOf(loose.get('x')).toEqualTypeOf<string | Uint8Array<ArrayBuffer> | null>()
