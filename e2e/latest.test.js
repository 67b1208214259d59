// One tab, one latest state (DESIGN.md): the paths issue 14 found by clicking around, each
// played out in every engine with the back/forward cache on. A = a page of the app, X = another
// site, every link opens a new URL. On the code before the redesign each of them failed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventsOf, named, open, pageUrl, setup } from './helpers.js'

const env = setup({ bfcache: true })
let n = 0
const app = () => pageUrl(env.server.origin, `?latest=${++n}`)
const other = () => `${env.server.otherSite}/e2e/pages/peek.html?latest=${++n}`
const keys = (page) => page.eval(() => Object.fromEntries(window.store.keys().map((k) => [k, window.store.get(k)])))
const errors = async (page) => (await eventsOf(page, 'error')).map((e) => e.reason)
const restored = async (page) =>
  assert.equal(
    (await eventsOf(page, 'pageshow')).at(-1)?.persisted,
    true,
    'the page came back from the back/forward cache',
  )

// Issue 25 changed what 1 and 1b find: the page that held k=2 sealed it, as it left, to
// the first page (e2e/peers.test.js), which takes it instead of dropping k=1 as `stale`.
// Where no such seal is left, the old outcome holds (peers.test.js, 25.2 and 25.3).
test(
  named(
    '1. set k=1, X, a link back (a new page), set k=2, Back, Back: the first page takes k=2, never k=1, and seals nothing older',
  ),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('k', '1'))
    await page.navigate(other())
    await page.navigate(app())
    assert.deepEqual([await keys(page), await errors(page)], [{}, ['left-origin']])
    await page.eval(() => window.store.set('k', '2'))
    await page.sleep(50)
    await page.back()
    await page.back()
    await restored(page)
    await page.waitFor(() => !window.store.pending)
    assert.deepEqual([await keys(page), await errors(page)], [{ k: '2' }, []], 'never the older k=1')
    await page.reload()
    assert.deepEqual(await keys(page), { k: '2' }, 'and no older state was sealed')
    await context.close()
  },
)

test(named('1b. X, a link back, set k=1, Back, Back: the first page (empty) takes the keys the tab has'), async () => {
  const context = await env.browser.newContext()
  const page = await open(context, app())
  await page.navigate(other())
  await page.navigate(app())
  await page.eval(() => window.store.set('k', '1'))
  await page.sleep(50)
  await page.back()
  await page.back()
  await restored(page)
  await page.waitFor(() => !window.store.pending)
  assert.deepEqual([await keys(page), await errors(page)], [{ k: '1' }, []])
  await context.close()
})

test(
  named('1c. set k=1, X, a link back (which drops k=1), Back, Back: the first page does not bring k=1 back'),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('k', '1'))
    await page.navigate(other())
    await page.navigate(app())
    await page.back()
    await page.back()
    await restored(page)
    assert.deepEqual(await keys(page), {})
    assert.deepEqual(await eventsOf(page, 'cleared'), [{ event: 'cleared', reason: 'other-page', count: 1 }])
    await context.close()
  },
)

for (const how of ['clear', 'delete']) {
  test(
    named(`2. persist, set k=1, link, Back, Forward, ${how}, link: the new page does not show k=1 again`),
    async () => {
      const context = await env.browser.newContext()
      const page = await open(context, app())
      await page.eval(() => {
        window.store.persist()
        window.store.set('k', '1')
      })
      await page.navigate(app())
      await page.back()
      await page.forward()
      await restored(page)
      await page.eval((how) => (how === 'clear' ? window.store.clear() : window.store.delete('k')), how)
      await page.navigate(app())
      assert.deepEqual([await keys(page), await errors(page)], [{}, []])
      await context.close()
    },
  )
}

test(
  named('3. set k=1, link, link to X, Back, Back, history.go(2), Back: nothing changed anywhere, so the keys stay'),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('k', '1'))
    await page.navigate(app())
    await page.navigate(other())
    await page.back()
    await page.back()
    await page.go(2)
    await page.back()
    await restored(page)
    assert.deepEqual([await keys(page), await errors(page)], [{ k: '1' }, []])
    await context.close()
  },
)
