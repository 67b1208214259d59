import { type Entry, type StateMeta, type Value, isBytes } from '../encoding'

/**
 * Tabs of one origin talking over a BroadcastChannel named after the store. Opt-in: the
 * channel carries keys in clear to every same-origin script of the same browser profile
 * that listens on it (script that could as well open the store itself and ask). Other
 * origins, other store names and other profiles never share a channel.
 *
 * Messages (structured clones), all with `v: 1`:
 * - `ask {id}`: a new tab whose store is empty asks for the keys;
 * - `give {id, entries, epoch, lastActive}`: one open tab that has keys answers with
 *   `[name, value, expiresAt]` triples, in one message, so a tab closing mid-handoff
 *   leaves the new tab empty, never half-filled; the logout epoch and the last activity
 *   travel along, and the new tab drops keys of an epoch it does not share or past
 *   their idle time;
 * - `clear {epoch}` and `delete {name}`: the store was cleared, or a key deleted,
 *   everywhere. A `clear` also cancels an ask in flight: an answer sent before the
 *   logout could otherwise arrive after it.
 * Anything else (other versions, wrong shapes, oversized lists) is ignored.
 */

/** An entry as it travels: name, value, absolute expiry (`Infinity`: never). */
export type HandoffEntry = [name: string, value: Value, expiresAt: number]

/** What the tabs protocol needs from a store. */
export interface TabsHost {
  isEmpty(): boolean
  entries(): HandoffEntry[]
  meta(): StateMeta
  /** Entries handed over by another tab; called at most once, and only while empty. */
  receive(entries: HandoffEntry[], meta: StateMeta): void
  /** No tab answered in time. */
  unanswered(): void
  clearHere(epoch: string | undefined): void
  deleteHere(name: string): void
}

/** The part of BroadcastChannel used here, so tests can pass a fake. */
export interface ChannelLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  close(): void
}

/** The part of Web Locks used here. */
export interface LocksLike {
  request(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<void> | void): Promise<unknown>
}

export interface TabsLink {
  ask(): void
  clearEverywhere(epoch: string): void
  deleteEverywhere(name: string): void
  close(): void
}

/** What a store hands to the `tabs` option: its insides, not a public API. */
export interface StoreInternals {
  /** A handoff is in flight (true) or over (false): `store.pending`. */
  pending(pending: boolean): void
  readonly name: string
  readonly entries: Map<string, Entry>
  /** Clears the store first if its idle time has passed (its timer may not have fired). */
  checkIdle(): void
  meta(): StateMeta
  /** Takes keys handed over by another tab (screened for logouts and idle time) and emits `restored`. */
  receive(entries: HandoffEntry[], meta: StateMeta): void
  /** No tab answered: emits `restored` with source `none`. */
  unanswered(): void
  /** Clears here, as asked by another tab, under its logout epoch. */
  clear(epoch: string | undefined): void
  /** Deletes here, as asked by another tab. */
  remove(name: string): void
}

/** What the `tabs` export really is; the public type hides it (see tabs/index.ts). */
export type TabsConnect = (store: StoreInternals) => TabsLink | undefined

/** How long a new tab waits for an answer, and how long the answering tab holds the lock. */
export const HANDOFF_TIMEOUT = 1000
/** Entries in one handoff at most; a larger list is junk, not a store. */
export const MAX_HANDOFF_ENTRIES = 100_000

const VERSION = 1

const isText = (value: unknown): value is string => typeof value === 'string' && value.isWellFormed()

function isEntry(entry: unknown): entry is HandoffEntry {
  return (
    Array.isArray(entry) &&
    entry.length === 3 &&
    isText(entry[0]) &&
    (isText(entry[1]) || isBytes(entry[1])) &&
    typeof entry[2] === 'number' &&
    !Number.isNaN(entry[2])
  )
}

export function connectTabs(channel: ChannelLike, host: TabsHost, locks: LocksLike | undefined, lockPrefix: string): TabsLink {
  let waiting: { id: string; timer: ReturnType<typeof setTimeout> } | undefined
  let closed = false

  const answer = (id: string): void => {
    if (host.isEmpty()) return
    const { epoch, lastActive } = host.meta()
    channel.postMessage({ v: VERSION, type: 'give', id, entries: host.entries(), epoch, lastActive })
  }

  channel.addEventListener('message', ({ data }) => {
    // The channel is shared with any same-origin script: nothing it sends may throw here.
    try {
      if (closed || !data || typeof data !== 'object') return
      const message = data as { v?: unknown; type?: unknown; id?: unknown; name?: unknown; entries?: unknown; epoch?: unknown; lastActive?: unknown }
      if (message.v !== VERSION) return
      if (message.type === 'ask' && typeof message.id === 'string' && message.id.length <= 64) {
        const id = message.id
        // Web Locks pick one answering tab: the lock is held while the asker waits, so
        // the other tabs find it taken. Only tabs with keys compete: an empty one that
        // won would hold the lock with nothing to give. Without Web Locks every tab
        // answers and the asker keeps the first answer.
        if (host.isEmpty()) return
        if (locks) {
          void locks
            .request(`${lockPrefix}:${id}`, { ifAvailable: true }, async (lock) => {
              if (!lock || closed) return
              answer(id)
              await new Promise((resolve) => setTimeout(resolve, HANDOFF_TIMEOUT))
            })
            .catch(() => undefined)
        } else answer(id)
      } else if (message.type === 'give' && waiting && message.id === waiting.id) {
        const { entries, epoch, lastActive } = message
        if (!Array.isArray(entries) || entries.length > MAX_HANDOFF_ENTRIES || !entries.every(isEntry)) return
        if (typeof epoch !== 'string' || typeof lastActive !== 'number' || !Number.isFinite(lastActive)) return
        clearTimeout(waiting.timer)
        waiting = undefined
        if (host.isEmpty()) host.receive(entries, { epoch, lastActive })
      } else if (message.type === 'clear') {
        // A logout wins over a handoff in flight: its answer may have been sent before it.
        if (waiting) {
          clearTimeout(waiting.timer)
          waiting = undefined
          host.unanswered()
        }
        host.clearHere(typeof message.epoch === 'string' ? message.epoch : undefined)
      } else if (message.type === 'delete' && typeof message.name === 'string') {
        host.deleteHere(message.name)
      }
    } catch {
      // ignored: a foreign message must not disturb the store
    }
  })

  return {
    ask(): void {
      const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
      const timer = setTimeout(() => {
        waiting = undefined
        if (!closed) host.unanswered()
      }, HANDOFF_TIMEOUT)
      ;(timer as { unref?: () => void }).unref?.()
      waiting = { id, timer }
      channel.postMessage({ v: VERSION, type: 'ask', id })
    },
    clearEverywhere(epoch: string): void {
      channel.postMessage({ v: VERSION, type: 'clear', epoch })
    },
    deleteEverywhere(name: string): void {
      channel.postMessage({ v: VERSION, type: 'delete', name })
    },
    close(): void {
      closed = true
      if (waiting) clearTimeout(waiting.timer)
      channel.close()
    },
  }
}

