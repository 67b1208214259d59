/**
 * `tab-keystore/tabs`: the opt-in `tabs` option of `SessionKeystore`, in its own entry
 * point so that apps without it do not ship it.
 *
 * @module
 */
// Only apps with `tabs` can delete everywhere: they alone ship the code that keeps the
// deletions for tabs that do not hear them (`Deleted` in lifecycle/tab.ts). (In CommonJS
// this entry then carries its own copy of the cipher, for `nameTag`, as the others do.)
import { deleteEverywhere, deletedSince, deletions, nameTag } from '../lifecycle/tab'
import { type HandoffEntry, type LocksLike, type TabsConnect, connectTabs } from './protocol'

declare const plugin: unique symbol

/**
 * The type of the `tabs` option: opaque on purpose, its insides are not an API.
 *
 * @example
 * const options: { tabs?: TabsPlugin } = { tabs }
 */
export interface TabsPlugin {
  readonly [plugin]: 'tab-keystore/tabs'
}

const connect: TabsConnect = ({ name, entries, intake }) => {
  // Node and Workers have BroadcastChannel, but no tabs.
  if (typeof window !== 'object' || typeof BroadcastChannel !== 'function') return undefined
  const link = connectTabs(
    new BroadcastChannel(`tab-keystore:${name}`),
    {
      isEmpty: () => {
        intake.idle?.check()
        return entries.map.size === 0
      },
      entries: () => {
        const now = Date.now()
        const out: HandoffEntry[] = []
        for (const [key, { value, expiresAt }] of entries.map) if (expiresAt > now) out.push([key, value, expiresAt])
        return out
      },
      meta: () => intake.meta(),
      receive: (handed, meta) => intake.receive(handed, meta),
      unanswered: () => intake.restored('none', 0),
      clearHere: (epoch) => intake.clearFrom(epoch),
      deleteHere: (key, token) => {
        // This page knows the new token: a key it sets again is not taken for the deleted one.
        if (typeof token === 'string') intake.deleted[nameTag(key)] = token
        entries.delete(key)
      },
      forget: (key) => {
        const tag = nameTag(key)
        return (intake.deleted[tag] = deleteEverywhere(name, tag))
      },
    },
    (navigator as { locks?: LocksLike }).locks,
    `tab-keystore:${name}:answer`,
  )
  // What this page's seals and answers say it knows from now on (a sealed state at load already did this).
  Object.assign(intake.deleted, deletions(name))
  if (entries.map.size === 0) {
    link.ask()
    // `pending` is part of the store's state: subscribers hear it begin.
    entries.changed()
  }
  return link
}
connect.since = (name, known) => {
  const now = deletions(name)
  return [now, deletedSince(known, now)]
}

/**
 * The `tabs` option of `SessionKeystore`: tabs of one origin share the store. A new tab
 * whose store is empty asks the open ones for the keys (one that has keys answers, picked
 * with Web Locks; `store.pending` is true meanwhile), and `clear({ everywhere: true })` /
 * `delete(name, { everywhere: true })` act in every tab. Browser windows only; elsewhere
 * the option does nothing.
 *
 * @example
 * import { SessionKeystore } from 'tab-keystore'
 * import { tabs } from 'tab-keystore/tabs'
 *
 * const store = new SessionKeystore({ name: 'app', tabs })
 * store.on('restored', ({ source, count }) => console.log(source, count)) // 'tab', 2
 * logout.onclick = () => store.clear({ everywhere: true })
 */
export const tabs: TabsPlugin = connect as unknown as TabsPlugin
