import { afterEach, vi } from 'vitest'
import { SessionKeystore, type Schema, type SessionKeystoreOptions, type KeyName } from '../src/index'

const open: SessionKeystore<never>[] = []

/** A store destroyed after the test, so names can be reused (one live store per name per page). */
export function makeStore<S extends Schema<S> = Record<string, string | Uint8Array>>(
  options: SessionKeystoreOptions<KeyName<S>> = {},
): SessionKeystore<S> {
  const store = new SessionKeystore<S>(options)
  open.push(store as unknown as SessionKeystore<never>)
  return store
}

afterEach(() => {
  for (const store of open.splice(0)) store.destroy()
  vi.useRealTimers()
  vi.restoreAllMocks()
})

/** Lets queued microtasks (deferred restore events) run. */
export const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/** Records every event of a store in order as `event:name`. */
export function recordEvents(store: SessionKeystore): string[] {
  const log: string[] = []
  for (const event of ['created', 'read', 'updated', 'deleted', 'expired'] as const) {
    store.on(event, ({ name }) => log.push(`${event}:${name}`))
  }
  return log
}
