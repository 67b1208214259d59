// The back/forward cache, on as in real browsers. Every test checks that the page really
// came back from the cache (pageshow with persisted), or it would prove nothing.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventsOf, named, open, pageUrl, setup, sealedAtRest } from './helpers.js'

const env = setup({ bfcache: true })
const restoredFromCache = async (page) =>
  assert.equal(
    (await eventsOf(page, 'pageshow')).at(-1)?.persisted,
    true,
    'the page came back from the back/forward cache',
  )
const value = (page, name = 'k') => page.eval((name) => window.store.get(name), name)

test(
  named('4a. A to B and back: A comes from the cache, still works, and a second later no sealed entry is left'),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, pageUrl(env.server.origin))
    await page.eval(() => window.store.set('masterKey', 'bfcache-secret'))
    await page.click('#next')
    assert.equal(await value(page, 'masterKey'), 'bfcache-secret', 'B restored the keys')
    await page.back()
    await restoredFromCache(page)
    assert.equal(await value(page, 'masterKey'), 'bfcache-secret', 'A still holds its keys')
    await page.eval(() => window.store.set('more', 'works'))
    await page.sleep(1000)
    assert.deepEqual(await sealedAtRest(page), [], 'no sealed state at rest')
    await page.reload()
    assert.deepEqual(await page.eval(() => [window.store.get('masterKey'), window.store.get('more')]), [
      'bfcache-secret',
      'works',
    ])
    await context.close()
  },
)

test(named('4b. keys cleared by B (a logout) do not come back when going back to A, nor after a reload'), async () => {
  const context = await env.browser.newContext()
  const page = await open(context, pageUrl(env.server.origin))
  await page.eval(() => window.store.set('masterKey', 'logout-secret'))
  await page.click('#next')
  await page.eval(() => window.store.clear())
  await page.back()
  await restoredFromCache(page)
  await page.waitFor(() => window.store.size === 0, [], { timeout: 3000, message: 'A to drop its keys' })
  assert.deepEqual(await eventsOf(page, 'cleared'), [{ event: 'cleared', reason: 'other-page', count: 1 }])
  await page.sleep(500)
  assert.deepEqual(await sealedAtRest(page), [], 'nothing sealed left at rest')
  await page.reload()
  assert.deepEqual(await page.eval(() => window.store.keys()), [])
  await context.close()
})

for (const how of ['history.back()', 'the Back button']) {
  test(
    named(`4c. A sets v1, B sets v2, then Back (${how}): A ends up with v2, and so does the next page`),
    async () => {
      const context = await env.browser.newContext()
      const page = await open(context, pageUrl(env.server.origin))
      await page.eval(() => {
        window.store.set('k', 'v1')
        window.store.set('gone', 'deleted on B')
      })
      await page.click('#next')
      await page.eval(() => {
        window.store.set('k', 'v2')
        window.store.delete('gone')
        window.store.set('new', 'added on B')
      })
      await (how === 'the Back button' ? page.backButton() : page.back())
      await restoredFromCache(page)
      await page.waitFor(() => window.store.get('k') === 'v2', [], {
        timeout: 3000,
        message: 'A to take the latest state',
      })
      assert.deepEqual(await page.eval(() => [window.store.keys().sort(), window.store.get('new')]), [
        ['k', 'new'],
        'added on B',
      ])
      await page.reload()
      assert.deepEqual(await page.eval(() => [window.store.get('k'), window.store.keys().sort()]), ['v2', ['k', 'new']])
      await context.close()
    },
  )
}

test(named('4d. and forward again: B, restored from the cache, takes what A changed meanwhile'), async () => {
  const context = await env.browser.newContext()
  const page = await open(context, pageUrl(env.server.origin))
  await page.eval(() => window.store.set('k', 'v1'))
  await page.click('#next')
  await page.back()
  await page.eval(() => window.store.set('k', 'v3'))
  await page.forward()
  await restoredFromCache(page)
  await page.waitFor(() => window.store.get('k') === 'v3', [], { timeout: 3000, message: 'B to take the latest state' })
  await context.close()
})

test(
  named(
    '4e. Back after using the keys on the later page: the restored page does not count the time it sat in the cache as idle',
  ),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, pageUrl(env.server.origin, '?idle=2500'))
    await page.eval(() => window.store.set('k', 'in use'))
    await page.navigate(pageUrl(env.server.origin, '?idle=2500&page=b'))
    for (let i = 0; i < 3; i++) {
      await page.sleep(1000)
      assert.equal(await page.eval(() => window.store.get('k')), 'in use', 'used on the later page')
    }
    // A's own last use is now 3 s old, past its 2.5 s idle time; the tab's is fresh.
    await page.back()
    await restoredFromCache(page)
    await page.sleep(500)
    assert.deepEqual(await eventsOf(page, 'cleared'), [])
    assert.equal(await value(page), 'in use')
    await context.close()
  },
)
