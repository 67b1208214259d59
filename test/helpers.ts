import { afterEach, vi } from 'vitest'
import { SessionKeystore, type Schema, type SessionKeystoreOptions, type KeyName } from '../src/index'
import type { TabsPlugin } from '../src/tabs/index'
import type { HandoffEntry, StoreInternals, TabsConnect, TabsLink } from '../src/tabs/protocol'

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

/**
 * A `tabs` option that captures the store's parts and, until the test ends it, waits for
 * an answer (`pending`): `give` hands keys over as a tab's answer would, `end` says no tab
 * answered.
 */
export function waitingTabs(): {
  plugin: TabsPlugin
  internals: () => StoreInternals
  give: (entries: HandoffEntry[]) => void
  end: () => void
} {
  let internals: StoreInternals | undefined
  let pending = true
  const connect: TabsConnect = (store) => {
    internals = store
    store.entries.changed()
    const link: TabsLink = {
      get pending() {
        return pending
      },
      ask() {},
      clearEverywhere() {},
      deleteEverywhere() {},
      close() {},
    }
    return link
  }
  return {
    plugin: connect as unknown as TabsPlugin,
    internals: () => internals!,
    give: (entries) => {
      pending = false
      internals!.intake.receive(entries, internals!.intake.meta())
    },
    end: () => {
      pending = false
      internals!.intake.restored('none', 0)
    },
  }
}
