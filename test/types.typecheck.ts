// Type tests: checked by `tsc` in `npm test` (a `@ts-expect-error` that is not an error
// fails the build), never run. See tsconfig.json `include`.
import { expectTypeOf } from 'vitest'
import { SessionKeystore, type KeyEvent } from '../src/index'

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
typed.set('token', 'abc', new Date())
expectTypeOf(typed.get('masterKey')).toEqualTypeOf<Uint8Array | null>()
expectTypeOf(typed.get('token')).toEqualTypeOf<string | null>()
// @ts-expect-error: masterKey holds bytes
typed.set('masterKey', 'a string')
// @ts-expect-error: token holds a string
typed.set('token', new Uint8Array(1))
// @ts-expect-error: unknown key name
typed.get('nope')

// Events: payloads typed by event, key names typed.
typed.on('created', (event) => expectTypeOf(event).toEqualTypeOf<KeyEvent<'masterKey' | 'token'>>())
typed.on('restored', ({ count, expired }) => expectTypeOf(count + expired).toBeNumber())
typed.on('error', ({ reason }) => expectTypeOf(reason).toExtend<string>())
// @ts-expect-error: unknown event
typed.on('changed', () => undefined)
// @ts-expect-error: the restored payload has no name
typed.on('restored', ({ name }) => name)

// Untyped: any name, either value type.
const loose = new SessionKeystore()
loose.set('anything', new Uint8Array(1))
loose.set('else', 'text')
expectTypeOf(loose.get('x')).toEqualTypeOf<string | Uint8Array | null>()
