import { afterEach, describe, expect, it, vi } from 'vitest'
import { encodeEntries } from '../../src/encoding'
import { catchUp, context, load } from '../../src/lifecycle/placement'
import type { TabRecord } from '../../src/lifecycle/tab'
import { SHARE_LENGTH, randomBytes, seal } from '../../src/seal'

// The decisions, as tables: what a fresh page and a page back from the cache make of what
// the tab holds. No I/O: the records and seals are built here.
afterEach(() => vi.unstubAllGlobals())

const share = randomBytes(SHARE_LENGTH)
const plain = (): Uint8Array =>
  encodeEntries(new Map([['k', { value: 'v', expiresAt: Infinity }]]), 0, { epoch: '', lastActive: 0 }).bytes
const sealed = (gen: string, s1 = share): string => seal(plain(), s1, 'app', context(gen))
const rec = (change: Partial<TabRecord>): TabRecord => ({
  g: 'g1',
  n: 1,
  w: 'sealed',
  a: 0,
  k: '',
  v: [],
  t: 0,
  ...change,
})

describe('a fresh page', () => {
  const outcome = (r: TabRecord | undefined | null, text: string | null, s1: Uint8Array | null | undefined): string => {
    const loaded = load(r, text, s1, 'app')
    return loaded === undefined ? 'nothing' : 'plain' in loaded ? 'keys' : loaded.error
  }
  it.each([
    ['no record yet (a new tab): the seal, unbound to a generation', undefined, 'g1', share, 'keys'],
    ['no record and no seal: a new tab', undefined, null, share, 'nothing'],
    [
      'the record gone (localStorage cleared, a write refused): the seal is not vouched for',
      null,
      'g1',
      share,
      'unrecorded',
    ],
    [
      'the record gone and no seal: told all the same (keys may have stayed with a page whose record write was refused)',
      null,
      null,
      share,
      'unrecorded',
    ],
    ['the latest state is empty: a leftover seal is not taken', rec({ n: 0 }), 'g1', share, 'nothing'],
    ['the seal of the latest generation', rec({}), 'g1', share, 'keys'],
    [
      'an outdated seal (a Firefox page restored with an old view wrote it back)',
      rec({ g: 'g2' }),
      'g1',
      share,
      'lost',
    ],
    ['keys held by a page gone to another origin', rec({ w: 'away' }), 'g1', share, 'left-origin'],
    ['keys too large to seal', rec({ w: 'quota' }), null, share, 'quota'],
    ['keys held by a page that died without sealing', rec({ w: 'live' }), null, share, 'lost'],
    ['the seal, but no share (cleared by a trip to another site)', rec({}), 'g1', undefined, 'missing-share'],
    ['the seal, and something else where the share goes', rec({}), 'g1', null, 'tampered'],
    ['the seal under another share', rec({}), 'g1', randomBytes(SHARE_LENGTH), 'tampered'],
  ] as const)('%s', (_, r, gen, s1, expected) => {
    expect(outcome(r, gen && sealed(gen), s1)).toBe(expected)
  })
  it('a state sealed for a traversal is in the record itself', () => {
    expect(outcome(rec({ w: 'slot', s: sealed('g1') }), null, share)).toBe('keys')
    expect(outcome(rec({ w: 'slot', s: sealed('g0') }), null, share)).toBe('lost')
  })
  it("with the Navigation API, only a seal of this page's own same-origin history opens", () => {
    const history = (from: string | null, entries: string[]) =>
      vi.stubGlobal('navigation', {
        currentEntry: { key: entries.at(-1) },
        activation: { from: from && { key: from } },
        entries: () => entries.map((key) => ({ key })),
      })
    history(null, ['a'])
    const text = sealed('g1')
    history('a', ['a', 'b'])
    expect(outcome(rec({}), text, share)).toBe('keys')
    history('a', ['z']) // crash-reload: a new entry, the old one in activation.from
    expect(outcome(rec({}), text, share)).toBe('keys')
    history(null, ['fork'])
    expect(outcome(rec({}), text, share)).toBe('left-origin')
  })
})

describe('a page back from the back/forward cache, holding generation g1', () => {
  const outcome = (r: TabRecord | undefined | null, session: string | null = null, s1 = share): string => {
    const result = catchUp(r, 'g1', session, s1, 'app')
    return typeof result === 'string' ? result : 'adopt'
  }
  it.each([
    ['no record (an app cleared localStorage at logout): vouches for nothing', null, null, 'unrecorded'],
    ['no record ever written: vouches for nothing', undefined, null, 'unrecorded'],
    ['it missed no change', rec({ g: 'g1', w: 'away' }), null, 'current'],
    ['the latest state is empty', rec({ g: 'g2', n: 0 }), null, 'empty'],
    ['the latest state was sealed for this traversal', rec({ g: 'g2', w: 'slot', s: sealed('g2') }), null, 'adopt'],
    ['the latest state went to another origin in memory', rec({ g: 'g2', w: 'away' }), null, 'stale'],
    ['it is in sessionStorage, and the engine shows this page later writes', rec({ g: 'g2' }), sealed('g2'), 'adopt'],
    ['it is in sessionStorage, but this page sees its own old view (Firefox)', rec({ g: 'g2' }), null, 'stale'],
    ['it was lost', rec({ g: 'g2', w: 'live' }), null, 'stale'],
  ] as const)('%s', (_, r, session, expected) => {
    expect(outcome(r, session)).toBe(expected)
  })
  it('a state sealed under another share (the tab moved to a fresh one) is stale', () => {
    expect(outcome(rec({ g: 'g2', w: 'slot', s: sealed('g2', randomBytes(SHARE_LENGTH)) }))).toBe('stale')
  })
  it('a slot of another generation than the record names is stale', () => {
    expect(outcome(rec({ g: 'g2', w: 'slot', s: sealed('g3') }))).toBe('stale')
  })
})
