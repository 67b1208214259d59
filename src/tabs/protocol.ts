import { type StateMeta, isBytes } from '../encoding'
import type { Entries } from '../entries'
import type { HandoffEntry, Intake, Since } from '../intake'

/**
 * Tabs of one origin talking over a BroadcastChannel named after the store. Opt-in: the
 * channel carries keys in clear to every same-origin script of the same browser profile
 * that listens on it (script that could as well open the store itself and ask). Other
 * origins, other store names and other profiles never share a channel.
 *
 * Messages (structured clones), all with `v: 1`:
 * - `ask {id}`: a new tab whose store is empty asks for the keys;
 * - `give {id, entries, epoch, lastActive, deleted}`: one open tab that has keys answers
 *   with `[name, value, expiresAt]` triples, in one message, so a tab closing mid-handoff
 *   leaves the new tab empty, never half-filled; the logout epoch, the last activity and
 *   the keys deleted everywhere as the answering tab knows them travel along, and the new
 *   tab drops keys of an epoch it does not share, past their idle time, or deleted
 *   everywhere since (`deleted` absent, from an older version: every deletion counts);
 * - `clear {epoch}` and `delete {name, token}`: the store was cleared, or a key deleted,
 *   everywhere (`token`: the deletion's, see `Deleted` in lifecycle/tab.ts). A `clear`
 *   also cancels an ask in flight: an answer sent before the logout could otherwise
 *   arrive after it. A `delete` need not: the answer's `deleted` says what it predates.
 * Anything else (other versions, wrong shapes, oversized lists) is ignored.
 */

export type { HandoffEntry }

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
  deleteHere(name: string, token: unknown): void
  /** Records a delete everywhere in localStorage, for the tabs that do not hear it; its token. */
  forget(name: string): string | undefined
}

/** The part of BroadcastChannel used here, so tests can pass a fake. */
export interface ChannelLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  close(): void
}

/** The part of Web Locks used here. */
export interface LocksLike {
  request(
    name: string,
    options: { ifAvailable: true },
    callback: (lock: unknown) => Promise<void> | void,
  ): Promise<unknown>
}

export interface TabsLink {
  /** Asked, and waiting for an answer (`store.pending`). */
  readonly pending: boolean
  ask(): void
  clearEverywhere(epoch: string): void
  deleteEverywhere(name: string): void
  close(): void
}

/** What a store hands to the `tabs` option: its parts, not a public API. */
export interface StoreInternals {
  readonly name: string
  /** The keys, and what a change does. */
  readonly entries: Entries
  /** Keys from elsewhere: screened (logout, idle time, deleted everywhere) and taken. */
  readonly intake: Intake
}

/**
 * What the `tabs` export really is; the public type hides it (see tabs/index.ts). `since`
 * is used before it connects (the sealed state at load): the keys of store `name` deleted
 * everywhere, as localStorage has them, and a test for those deleted since `known`.
 */
export type TabsConnect = ((store: StoreInternals) => TabsLink | undefined) & {
  since?: Since
}

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

/** A message as it comes off the channel: anything at all, read field by field. */
type Message = {
  v?: unknown
  type?: unknown
  id?: unknown
  name?: unknown
  entries?: unknown
  epoch?: unknown
  lastActive?: unknown
  deleted?: unknown
  token?: unknown
}

export function connectTabs(
  channel: ChannelLike,
  host: TabsHost,
  locks: LocksLike | undefined,
  lockPrefix: string,
): TabsLink {
  return new Link(channel, host, locks, lockPrefix)
}

class Link implements TabsLink {
  readonly #channel: ChannelLike
  readonly #host: TabsHost
  readonly #locks: LocksLike | undefined
  readonly #lockPrefix: string
  #waiting: { id: string; timer: ReturnType<typeof setTimeout> } | undefined
  #closed = false

  constructor(channel: ChannelLike, host: TabsHost, locks: LocksLike | undefined, lockPrefix: string) {
    this.#channel = channel
    this.#host = host
    this.#locks = locks
    this.#lockPrefix = lockPrefix
    channel.addEventListener('message', ({ data }) => {
      // The channel is shared with any same-origin script: nothing it sends may throw here.
      try {
        if (!this.#closed && data && typeof data === 'object' && (data as Message).v === VERSION)
          this.#receive(data as Message)
      } catch {
        // ignored: a foreign message must not disturb the store
      }
    })
  }

  get pending(): boolean {
    return this.#waiting !== undefined
  }

  ask(): void {
    const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
    const timer = setTimeout(() => {
      this.#waiting = undefined
      if (!this.#closed) this.#host.unanswered()
    }, HANDOFF_TIMEOUT)
    ;(timer as { unref?: () => void }).unref?.()
    this.#waiting = { id, timer }
    this.#channel.postMessage({ v: VERSION, type: 'ask', id })
  }

  clearEverywhere(epoch: string): void {
    this.#channel.postMessage({ v: VERSION, type: 'clear', epoch })
  }

  deleteEverywhere(name: string): void {
    this.#channel.postMessage({ v: VERSION, type: 'delete', name, token: this.#host.forget(name) })
  }

  close(): void {
    this.#closed = true
    if (this.#waiting) clearTimeout(this.#waiting.timer)
    this.#channel.close()
  }

  #receive(message: Message): void {
    const host = this.#host
    if (message.type === 'ask' && typeof message.id === 'string' && message.id.length <= 64) this.#asked(message.id)
    else if (message.type === 'give' && this.#waiting && message.id === this.#waiting.id) {
      const { entries, epoch, lastActive, deleted } = message
      if (!Array.isArray(entries) || entries.length > MAX_HANDOFF_ENTRIES || !entries.every(isEntry)) return
      if (typeof epoch !== 'string' || typeof lastActive !== 'number' || !Number.isFinite(lastActive)) return
      this.#stopWaiting()
      // `deleted` is taken as it comes: the store reads anything but a map of its tokens as knowing none.
      if (host.isEmpty()) host.receive(entries, { epoch, lastActive, deleted: deleted as StateMeta['deleted'] })
    } else if (message.type === 'clear') {
      // A logout wins over a handoff in flight: its answer may have been sent before it.
      if (this.#waiting) {
        this.#stopWaiting()
        host.unanswered()
      }
      host.clearHere(typeof message.epoch === 'string' ? message.epoch : undefined)
    } else if (message.type === 'delete' && typeof message.name === 'string') {
      host.deleteHere(message.name, message.token)
    }
  }

  /**
   * Web Locks pick one answering tab: the lock is held while the asker waits, so the other
   * tabs find it taken. Only tabs with keys compete: an empty one that won would hold the
   * lock with nothing to give. Without Web Locks every tab answers and the asker keeps the
   * first answer.
   */
  #asked(id: string): void {
    if (this.#host.isEmpty()) return
    if (!this.#locks) return this.#answer(id)
    void this.#locks
      .request(`${this.#lockPrefix}:${id}`, { ifAvailable: true }, async (lock) => {
        if (!lock || this.#closed) return
        this.#answer(id)
        await new Promise((resolve) => setTimeout(resolve, HANDOFF_TIMEOUT))
      })
      .catch(() => undefined)
  }

  #answer(id: string): void {
    if (this.#host.isEmpty()) return
    this.#channel.postMessage({ v: VERSION, type: 'give', id, entries: this.#host.entries(), ...this.#host.meta() })
  }

  #stopWaiting(): void {
    clearTimeout(this.#waiting!.timer)
    this.#waiting = undefined
  }
}
