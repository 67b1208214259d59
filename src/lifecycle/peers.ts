import { fromHex, open, randomBytes, seal, toHex } from '../seal'
import { type PageSeal, token } from './tab'

/*
 * Sealed to the page that will show it (DESIGN.md). The tab's share (share.ts) is what a
 * fresh page opens its state with; a page already in the back/forward cache needs none.
 * Each page holds an X25519 key pair whose private half is made unextractable and never
 * leaves its memory, and names its public half in the tab's record (`p`). A page that
 * leaves seals its state to every other page of the tab the record names, with keys it
 * derived while it was shown (WebCrypto is asynchronous, `pagehide` is not): what rests is
 * a ciphertext under a random data key, that key wrapped for each page, and public keys.
 * Neither a site that saw every share nor a copy of the disk opens it; only the page it
 * is wrapped for, in memory. A page whose key is missing, not yet derived, or that is not
 * in the record meets the old rule: without a seal it can open, it drops its keys, told.
 *
 * X25519 in all three engines (measured: Chromium 156, Firefox 153, WebKitGTK 2.50; the
 * key pair in 0–2.4 ms, a key derived in 0.2–1 ms). WebCrypto needs a secure context
 * (https, localhost): elsewhere no page has a pair, and nothing changes.
 */

const X25519 = { name: 'X25519' }
/** As many as a record names (tab.ts). */
const MAX_KNOWN = 8
const HEX_KEY = /^[0-9a-f]{64}$/

/** A wrap's context: the generation it holds and the page it is for; the body's: the generation. */
const wrapContext = (gen: string, id: string): string => `${gen} ${id}`
const bodyContext = (gen: string): string => `${gen} pages`
/** A page as a record's `p` names it, or nothing of use (junk: any value another script left). */
const asPage = (page: unknown): unknown[] => (Array.isArray(page) ? page : [])
const exactly =
  (context: string) =>
  (found: string): 'outdated' | undefined =>
    found === context ? undefined : 'outdated'

/** This page's key pair, and the keys it shares with the other pages of its tab. */
export class Peers {
  /** This page, as the tab's record names it. */
  readonly id: string = token()
  /** This page's public key (hex), once made. */
  pub: string | undefined
  #private: CryptoKey | undefined
  /** The key shared with each page, by its public key: derived ahead, as sealing cannot wait. */
  readonly #keys = new Map<string, Uint8Array>()
  readonly #deriving = new Map<string, Promise<void>>()
  /** Public keys no key came of (junk in the record). */
  readonly #failed = new Set<string>()
  /** The pages of the tab this page has seen named, by id, newest last (`known`). */
  readonly #named = new Map<string, string>()
  readonly #name: string

  /**
   * Makes the pair off the load's critical path: in a task of its own, as even the call
   * that starts it costs about as much as the rest of a small store's restore (Chromium:
   * a 1-key restore took 0.36 ms with the call in the constructor, 0.19 ms without,
   * measured by `npm run bench`). `ready` is called once it is made.
   */
  constructor(name: string, ready: () => void) {
    this.#name = name
    const subtle = globalThis.crypto?.subtle
    if (!subtle) return
    setTimeout(() => {
      subtle
        .generateKey(X25519, false, ['deriveBits'])
        .then(async (pair) => {
          const { publicKey, privateKey } = pair as CryptoKeyPair
          this.pub = toHex(new Uint8Array(await subtle.exportKey('raw', publicKey)))
          this.#private = privateKey
          ready()
        })
        .catch(() => undefined)
    })
  }

  /** The pages of a record's `p`: remembered (`known`), and the keys shared with them derived ahead. */
  meet(pages: unknown[]): void {
    for (const page of pages) {
      const [id, pub] = asPage(page)
      if (typeof id !== 'string' || typeof pub !== 'string' || !this.#derivable(pub)) continue
      this.#named.delete(id)
      this.#named.set(id, pub)
    }
    while (this.#named.size > MAX_KNOWN) this.#named.delete(this.#named.keys().next().value!)
    void this.derive([...this.#named.values()])
  }

  /**
   * The pages this page knows of, itself included once its pair is made: a record gone
   * (an app cleared localStorage, a refused write) is written again with them, so that
   * pages in the cache, which cannot name themselves again, are still sealed to.
   */
  known(): [string, string][] {
    const pages = [...this.#named].filter(([id]) => id !== this.id)
    return this.pub ? [...pages, [this.id, this.pub]] : pages
  }

  /** Derives the keys shared with the pages of public keys `pubs` not derived yet; resolves once none is under way, undefined when none was. */
  derive(pubs: unknown[]): Promise<unknown> | undefined {
    const deriving = pubs.map((pub) => this.#derive(pub)).filter(Boolean)
    return deriving.length ? Promise.all(deriving) : undefined
  }

  #derive(pub: unknown): Promise<void> | undefined {
    const own = this.#private
    if (!own || typeof pub !== 'string' || !this.#derivable(pub) || pub === this.pub || this.#keys.has(pub)) return
    let deriving = this.#deriving.get(pub)
    if (!deriving) {
      // One key for both directions: the public keys in order, and the store's name, go
      // into the derivation. A wrap names the page it is for, so none passes for another.
      const [a, b] = [this.pub!, pub].sort()
      const info = new TextEncoder().encode(`tab-keystore/pages ${this.#name} ${a} ${b}`)
      const subtle = crypto.subtle
      deriving = subtle
        .importKey('raw', fromHex(pub), X25519, false, [])
        .then((peer) => subtle.deriveBits({ name: 'X25519', public: peer }, own, 256))
        .then(async (shared) => {
          const input = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits'])
          new Uint8Array(shared).fill(0)
          const salt = new Uint8Array(0)
          const key = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, input, 256)
          if (this.#private) this.#keys.set(pub, new Uint8Array(key))
        })
        // A point that is not a key (junk in the record): no key, the old rule.
        .catch(() => void this.#failed.add(pub))
        .finally(() => this.#deriving.delete(pub))
      this.#deriving.set(pub, deriving)
    }
    return deriving
  }

  /** `plain` sealed for generation `gen` to each page of `pages` (a record's `p`) this page has a key for; undefined when none. */
  seal(plain: Uint8Array, pages: unknown[] | undefined, gen: string): PageSeal | undefined {
    const r: [string, string][] = []
    const data = randomBytes(32)
    try {
      for (const page of pages ?? []) {
        const [id, pub] = asPage(page)
        const key = typeof pub === 'string' ? this.#keys.get(pub) : undefined
        if (key && typeof id === 'string' && id !== this.id)
          r.push([id, seal(data, key, this.#name, wrapContext(gen, id))])
      }
      return r.length ? { g: gen, f: this.pub!, c: seal(plain, data, this.#name, bodyContext(gen)), r } : undefined
    } finally {
      data.fill(0)
    }
  }

  /**
   * What `sealed` holds for this page, if it holds generation `gen`: the state; `wait`
   * while the key shared with its sealer is not derived yet (`derive` it, then ask again);
   * undefined when nothing in it opens here (not for this page, another generation, junk).
   */
  open(sealed: unknown, gen: string): Uint8Array | 'wait' | undefined {
    const { g, f, c, r } = (sealed ?? {}) as Partial<PageSeal>
    if (g !== gen || typeof f !== 'string' || typeof c !== 'string' || !Array.isArray(r)) return
    const wrap = r.find((w) => Array.isArray(w) && w[0] === this.id)?.[1]
    if (typeof wrap !== 'string') return
    const key = this.#keys.get(f)
    if (!key) return this.#private && this.#derivable(f) ? 'wait' : undefined
    const data = open(wrap, key, this.#name, exactly(wrapContext(gen, this.id)))
    if (typeof data === 'string') return
    try {
      const plain = open(c, data, this.#name, exactly(bodyContext(gen)))
      return typeof plain === 'string' ? undefined : plain
    } finally {
      data.fill(0)
    }
  }

  #derivable(pub: string): boolean {
    return HEX_KEY.test(pub) && !this.#failed.has(pub)
  }

  /** For good (`destroy()`): the keys shared with other pages are zero-filled, the pair forgotten. */
  forget(): void {
    for (const key of this.#keys.values()) key.fill(0)
    this.#keys.clear()
    this.#private = undefined
  }
}
