import { describe, expect, it } from 'vitest'
import { type Opened, cache, comeBack, fakeNavigation, freshTabs, open } from './page'

// The generation rule (DESIGN.md, "one tab, one latest state"): a page that took the tab's
// state without changing it holds the same generation, so a page of the tab further back
// that missed no change keeps its keys. Guards the reset in `start()` (src/lifecycle/
// machine.ts), which nothing else caught: without it, restoring counts as a change.
freshTabs()

describe('the generation a page holds', () => {
  /** Page 1 sets a key and links to page 2, which does `onPage2`, links to another site, and the user goes Back two entries. */
  async function twoPages(onPage2: (store: Opened['store']) => void): Promise<Opened> {
    fakeNavigation(null, ['a'])
    const first = await open()
    first.store.set('k', 'v')
    const page1 = cache()
    const nav = fakeNavigation('a', ['a', 'b'])
    const second = await open()
    onPage2(second.store)
    nav.navigate('https://elsewhere.example/')
    comeBack(page1)
    return first
  }

  it('page 1 sets a key, links to page 2 of the app, page 2 links to another site, Back two entries: page 1 keeps its key, told nothing', async () => {
    const first = await twoPages((store) => expect(store.get('k')).toBe('v'))
    expect([first.store.get('k'), first.errors]).toEqual(['v', []])
  })

  it('control: a change on page 2 before it leaves for another site makes page 1 drop its key, stale', async () => {
    const first = await twoPages((store) => store.set('k', 'changed on page 2'))
    expect([first.store.size, first.errors]).toEqual([0, ['stale']])
  })
})
