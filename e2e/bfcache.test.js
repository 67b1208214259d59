// The back/forward cache, which Playwright disables by default: turned on here.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { open, pageUrl, ready, setup, storageKeys } from './helpers.js'

const env = setup({ bfcache: true })

/** Goes back and waits for the page to be shown again (a cache restore fires no `load`). */
async function back(page) {
  await page.goBack({ waitUntil: 'commit' })
  await page.waitForFunction(() => window.events.some((e) => e.event === 'pageshow' && e.persisted === true))
}

test('4a. A to B and back: A comes from the cache, still works, and a second later no sealed entry is left', async () => {
  const context = await env.browser.newContext()
  const page = await open(context, pageUrl(env.server.origin))
  await page.evaluate(() => window.store.set('masterKey', 'bfcache-secret'))
  await page.click('#next')
  await page.waitForURL(/page=b/)
  await ready(page)
  assert.equal(await page.evaluate(() => window.store.get('masterKey')), 'bfcache-secret', 'B restored the keys')
  await back(page)
  assert.equal(await page.evaluate(() => window.store.get('masterKey')), 'bfcache-secret', 'A still holds its keys')
  await page.evaluate(() => window.store.set('more', 'works'))
  assert.equal(await page.evaluate(() => window.store.get('more')), 'works')
  await page.waitForTimeout(1000)
  assert.deepEqual(await storageKeys(page), [], 'the departing page’s sealed entry was wiped')
  // And A still hands its keys on at the next reload.
  await page.reload()
  await ready(page)
  assert.equal(await page.evaluate(() => window.store.get('masterKey')), 'bfcache-secret')
  await context.close()
})

test('4b. keys cleared by B (a logout) do not come back when going back to A', async () => {
  const context = await env.browser.newContext()
  const page = await open(context, pageUrl(env.server.origin))
  await page.evaluate(() => window.store.set('masterKey', 'logout-secret'))
  await page.click('#next')
  await page.waitForURL(/page=b/)
  await ready(page)
  await page.evaluate(() => window.store.clear())
  await back(page)
  assert.deepEqual(await page.evaluate(() => [window.store.keys(), window.store.get('masterKey')]), [[], null])
  await page.waitForTimeout(1000)
  assert.deepEqual(await storageKeys(page), ['tab-keystore:e2e#cleared'], 'only the (non-secret) clear marker remains')
  assert.match(await page.evaluate(() => sessionStorage.getItem('tab-keystore:e2e#cleared')), /^\d+-[0-9a-z]+$/)
  await context.close()
})
