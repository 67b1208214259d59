import { afterEach, describe, expect, it } from 'vitest'
import { decodeEntries, encodeEntries } from '../../src/encoding'
import { deleteEverywhere, deletedSince, deletions, nameTag, openTab } from '../../src/lifecycle/tab'

// The keys deleted everywhere, as lifecycle/tab.ts keeps them in localStorage for the tabs
// that do not hear the message (`Deleted`), and as sealed states carry them. The behaviour
// across tabs is test/tabs.everywhere.test.ts.

afterEach(() => localStorage.clear())

describe('the deletions kept in localStorage', () => {
  it('tags are one per name, of fixed length, and tell names apart (also by length, and past 16 bytes)', () => {
    const names = ['', 'a', 'a\0', 'b', 'x'.repeat(16), 'x'.repeat(17), 'x'.repeat(100), 'x'.repeat(100) + 'y', 'ключ']
    const tags = names.map(nameTag)
    expect(new Set(tags).size).toBe(names.length)
    for (const t of tags) expect(t).toMatch(/^[0-9a-f]{16}$/)
    expect(nameTag('x'.repeat(100))).toBe(tags[6])
  })

  it('a state knows a deletion when it carries its token; junk and absence know none', () => {
    deleteEverywhere('app', nameTag('a'))
    const now = deletions('app')
    expect(deletedSince(now, now)).toBeUndefined()
    for (const known of [undefined, {}, null, 'junk', { [nameTag('a')]: 'another token' }]) {
      const gone = deletedSince(known as never, now)!
      expect([gone('a'), gone('b')]).toEqual([true, false])
    }
    expect(deletedSince(undefined, {})).toBeUndefined()
    localStorage.setItem('tab-keystore/deleted/app', '{not json')
    expect(deletions('app')).toEqual({})
  })

  it('bounded: the oldest deletions are let go, and a state older than one let go drops every key; a newer one keeps its own', () => {
    const early = deletions('app') // before any deletion
    deleteEverywhere('app', nameTag('k0'))
    const afterFirst = deletions('app')
    for (let i = 1; i < 64; i++) deleteEverywhere('app', nameTag(`k${i}`))
    const full = deletions('app')
    expect(Object.keys(full)).toHaveLength(64)
    deleteEverywhere('app', nameTag('k64')) // lets k0 go
    const now = deletions('app')
    expect(Object.keys(now)).toHaveLength(65) // 64 names and '*'
    expect(now[nameTag('k0')]).toBeUndefined()
    expect(deletedSince(early, now)!('unrelated')).toBe(true) // it may have held k0: all go
    expect(deletedSince(afterFirst, now)!('unrelated')).toBe(false) // it knew k0's deletion
    expect(deletedSince(full, now)!('k64')).toBe(true)
    expect(deletedSince(full, now)!('k1')).toBe(false)
    deleteEverywhere('app', nameTag('k65')) // lets k1 go
    const later = deletions('app')
    expect(deletedSince(now, later)!('unrelated')).toBe(false) // it knew '*' as it was, and k1
    expect(deletedSince(afterFirst, later)!('unrelated')).toBe(true) // it may have held k1
    // A name deleted again moves to the end, with a new token.
    deleteEverywhere('app', nameTag('k2'))
    expect(Object.keys(deletions('app')).at(-2)).toBe(nameTag('k2'))
  })

  it('a logout everywhere removes them (every older state is dropped whole anyway)', () => {
    deleteEverywhere('app', nameTag('a'))
    const storage = openTab('app', false)
    if ('error' in storage) throw storage.error
    storage.logout()
    expect(deletions('app')).toEqual({})
  })
})

describe('sealed states', () => {
  it('carry the deletions a page knew in the place of the epoch; states sealed without them still open', () => {
    const entries = new Map([['k', { value: 'v', expiresAt: Infinity }]])
    const deleted = { [nameTag('a')]: '0123456789abcdef' }
    const now = decodeEntries(encodeEntries(entries, Date.now(), { epoch: 'e', lastActive: 5, deleted }).bytes)
    expect(now).toEqual({ entries: [['k', { value: 'v', expiresAt: Infinity }]], epoch: 'e', lastActive: 5, deleted })
    // Without deletions the bytes are those of the format before them (so an older version reads them).
    const plain = encodeEntries(entries, Date.now(), { epoch: 'e', lastActive: 5, deleted: {} }).bytes
    expect(plain).toEqual(encodeEntries(entries, Date.now(), { epoch: 'e', lastActive: 5 }).bytes)
    expect(decodeEntries(plain)).toMatchObject({ epoch: 'e', lastActive: 5, deleted: undefined })
  })
})
