// Several tabs of one origin (issue: opt-in handoff, clear everywhere, idle lock).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { events, open, pageUrl, setup } from './helpers.js'

const env = setup()
const url = (query) => pageUrl(env.server.origin, query)
const keysOf = (page) => page.evaluate(() => window.store.keys())
const waitRestored = (page) => page.waitForFunction(() => window.events.some((e) => e.event === 'restored'), null, { timeout: 5000 })
const restored = async (page) => (await events(page)).filter((e) => e.event === 'restored')

test('handoff: a second tab receives the keys with their expiry in well under a second; another context gets nothing', async () => {
  const context = await env.browser.newContext()
  const first = await open(context, url('?tabs=1'))
  const expiresAt = await first.evaluate(() => {
    const at = Date.now() + 600_000
    window.store.set('token', 'handed-over', at)
    window.store.set('masterKey', new Uint8Array([9, 8, 7]))
    return at
  })
  const second = await open(context, url('?tabs=1'))
  await waitRestored(second)
  assert.deepEqual(await restored(second), [{ event: 'restored', count: 2, expired: 0, source: 'tab' }])
  const at = await second.evaluate(() => window.restoredAt)
  assert.ok(at < 1000, `keys arrived ${Math.round(at)} ms after navigation start`)
  assert.deepEqual(
    await second.evaluate(() => [window.store.get('token'), [...window.store.get('masterKey')], window.store.expiresAt('token').getTime()]),
    ['handed-over', [9, 8, 7], expiresAt],
  )

  const stranger = await open(await env.browser.newContext(), url('?tabs=1'))
  await waitRestored(stranger)
  assert.deepEqual(await restored(stranger), [{ event: 'restored', count: 0, expired: 0, source: 'none' }])
  assert.deepEqual(await keysOf(stranger), [])
  await context.close()
})

test('with the option off nothing is sent on the channel (a listening page proves it hears)', async () => {
  const context = await env.browser.newContext()
  const listener = await open(context, url('?name=listener'))
  await listener.evaluate(() => {
    window.heard = []
    new BroadcastChannel('tab-keystore:e2e').onmessage = ({ data }) => window.heard.push(data.type)
  })
  const a = await open(context, url())
  await a.evaluate(() => window.store.set('k', 'not shared'))
  const b = await open(context, url())
  await b.evaluate(() => {
    window.store.delete('k')
    window.store.clear()
  })
  await a.evaluate(() => window.store.clear())
  await listener.waitForTimeout(300)
  assert.deepEqual(await listener.evaluate(() => window.heard), [])
  assert.deepEqual(await keysOf(b), [])
  // Positive control: a store with tabs: true is heard.
  const c = await open(context, url('?tabs=1&name=e2e'))
  await c.evaluate(() => window.store.clear({ everywhere: true }))
  await listener.waitForFunction(() => window.heard.includes('clear'))
  await context.close()
})

test('clear everywhere empties every tab, each with its own events', async () => {
  const context = await env.browser.newContext()
  const tabs = [await open(context, url('?tabs=1'))]
  await tabs[0].evaluate(() => {
    window.store.set('a', '1')
    window.store.set('b', '2')
  })
  for (let i = 0; i < 2; i++) {
    const page = await open(context, url('?tabs=1'))
    await waitRestored(page)
    tabs.push(page)
  }
  for (const page of tabs) assert.deepEqual(await keysOf(page), ['a', 'b'])
  await tabs[1].evaluate(() => window.store.delete('a', { everywhere: true }))
  await tabs[0].waitForFunction(() => !window.store.has('a'))
  await tabs[2].waitForFunction(() => !window.store.has('a'))
  await tabs[2].evaluate(() => window.store.clear({ everywhere: true }))
  for (const page of tabs) {
    await page.waitForFunction(() => window.store.size === 0)
    const log = (await events(page)).filter((e) => e.event === 'deleted' || e.event === 'cleared')
    assert.deepEqual(log, [
      { event: 'deleted', name: 'a' },
      { event: 'deleted', name: 'b' },
      { event: 'cleared', reason: page === tabs[2] ? 'clear' : 'other-tab', count: 1 },
    ])
  }
  await context.close()
})

test('idle lock fires after the period, with the clock advanced', async () => {
  const context = await env.browser.newContext()
  const page = await context.newPage()
  await page.clock.install()
  await page.goto(url('?idle=600000&name=idle'))
  await page.waitForFunction(() => window.ready === true)
  await page.evaluate(() => window.store.set('k', 'locks when idle'))
  await page.clock.runFor(590_000)
  assert.equal(await page.evaluate(() => window.store.get('k')), 'locks when idle', 'a read is activity')
  await page.clock.runFor(599_000)
  assert.deepEqual(await keysOf(page), ['k'])
  await page.clock.runFor(2_000)
  assert.deepEqual(await keysOf(page), [])
  assert.deepEqual((await events(page)).filter((e) => e.event === 'cleared'), [{ event: 'cleared', reason: 'idle', count: 1 }])
  await context.close()
})

test('a flood of junk on the channel changes nothing and throws nothing', async () => {
  const context = await env.browser.newContext()
  const errors = []
  const page = await open(context, url('?tabs=1'))
  page.on('pageerror', (error) => errors.push(error))
  await page.evaluate(() => window.store.set('k', 'unchanged'))
  const junk = await open(context, url('?name=junk'))
  await junk.evaluate(() => {
    const channel = new BroadcastChannel('tab-keystore:e2e')
    const huge = 'x'.repeat(8_000_000)
    const messages = [null, 1, 'clear', [], {}, { type: 'clear' }, { v: 2, type: 'clear' }, { v: 1, type: 'delete' },
      { v: 1, type: 'give', id: 'nobody-asked', entries: [['k', 'replaced', 1e15]] }, { v: 1, type: 'ask', id: huge },
      { v: 1, type: 'give', id: 'x', entries: huge }, { v: 1, type: 'delete', name: 42 }, { v: 1, type: 'give', entries: [[huge]] }]
    for (let i = 0; i < 1000; i++) channel.postMessage(messages[i % messages.length])
  })
  await page.waitForTimeout(1000)
  assert.equal(await page.evaluate(() => window.store.get('k')), 'unchanged')
  assert.deepEqual(errors, [])
  await context.close()
})
