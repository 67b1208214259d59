import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { makeStore, recordEvents } from './helpers'

// Random sequences of set/get/has/delete/clear and clock moves, checked against a plain
// Map that implements the documented semantics, events included.
type Value = string | Uint8Array
type Command =
  | { op: 'set'; name: string; value: Value; ttl: number | undefined }
  | { op: 'get' | 'has' | 'delete'; name: string }
  | { op: 'clear' }
  | { op: 'advance'; ms: number }

const nameArb = fc.constantFrom('a', 'b', 'c', 'd')
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom('x', 'y', ''),
  fc.string({ maxLength: 8, unit: 'grapheme' }),
  fc.uint8Array({ maxLength: 4 }),
)
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    name: nameArb,
    value: valueArb,
    ttl: fc.option(fc.integer({ min: -10, max: 3000 }), { nil: undefined }),
  }),
  fc.record({ op: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), name: nameArb }),
  fc.constant({ op: 'clear' as const }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2000 }) }),
)

const same = (a: Value, b: Value): boolean =>
  typeof a === 'string' || typeof b === 'string' ? a === b : a.length === b.length && a.every((x, i) => x === b[i])

describe('SessionKeystore against a model', () => {
  it('matches the model for random command sequences', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 60 }), (commands) => {
        vi.useFakeTimers()
        const start = Date.now()
        const store = makeStore()
        const events = recordEvents(store)
        const model = new Map<string, { value: Value; expiresAt: number }>()
        let now = start
        const expected: string[] = []
        // The model's lookup: an entry whose time has come is expired on access.
        const live = (name: string): { value: Value; expiresAt: number } | undefined => {
          const entry = model.get(name)
          if (entry && entry.expiresAt <= now) {
            model.delete(name)
            expected.push(`expired:${name}`)
            return undefined
          }
          return entry
        }
        for (const command of commands) {
          events.length = 0
          expected.length = 0
          switch (command.op) {
            case 'set': {
              const expiresAt = command.ttl === undefined ? Infinity : now + command.ttl
              store.set(command.name, command.value, command.ttl === undefined ? undefined : expiresAt)
              const old = live(command.name)
              if (expiresAt <= now) {
                model.delete(command.name)
                expected.push(`expired:${command.name}`)
              } else if (old && same(old.value, command.value)) {
                old.expiresAt = expiresAt
              } else {
                model.set(command.name, { value: command.value, expiresAt })
                expected.push(`${old ? 'updated' : 'created'}:${command.name}`)
              }
              break
            }
            case 'get': {
              const got = store.get(command.name)
              const entry = live(command.name)
              if (entry) expected.push(`read:${command.name}`)
              expect(got).toEqual(entry ? entry.value : null)
              break
            }
            case 'has':
              expect(store.has(command.name)).toBe(live(command.name) !== undefined)
              break
            case 'delete': {
              const removed = store.delete(command.name)
              const entry = live(command.name)
              if (entry) {
                model.delete(command.name)
                expected.push(`deleted:${command.name}`)
              }
              expect(removed).toBe(entry !== undefined)
              break
            }
            case 'clear':
              store.clear()
              for (const name of [...model.keys()]) if (live(name)) expected.push(`deleted:${name}`)
              model.clear()
              break
            case 'advance':
              vi.advanceTimersByTime(command.ms)
              now += command.ms
              for (const name of [...model.keys()]) live(name)
              break
          }
          expect([...events].sort()).toEqual([...expected].sort())
        }
        expect(store.keys().sort()).toEqual([...model.keys()].filter((n) => live(n)).sort())
        store.destroy()
        vi.useRealTimers()
      }),
      { numRuns: 300 },
    )
  })
})
