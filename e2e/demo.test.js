// The demo page (`npm run demo`) driven as a person would use it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createBackend } from './backend.js'
import { named, setup } from './helpers.js'

// Every request the server answered with an error: the browser shows each in the console
// (a 401 included), whichever engine runs the page.
const failed = []
const { api } = createBackend()
const env = setup({
  api: (request, response) => {
    response.on('finish', () => {
      if (response.statusCode >= 400) failed.push(`${response.statusCode} ${request.method} ${request.url}`)
    })
    return api(request, response)
  },
})
const fill = (page, fields) =>
  page.eval((fields) => {
    for (const [id, value] of Object.entries(fields)) document.getElementById(id).value = value
  }, fields)
const click = (page, id) => page.eval((id) => document.getElementById(id).click(), id)
const text = (page, selector) =>
  page.eval((selector) => document.querySelector(selector)?.textContent ?? null, selector)

test(
  named(
    '8. demo: strings and bytes, reload, countdown, another tab, the persistent tier, what the browser holds, a link to the docs; no error, no failed request (401 or 404)',
  ),
  async () => {
    const context = await env.browser.newContext()
    const page = await context.newPage(`${env.server.origin}/demo/`)
    assert.equal(
      await page.eval(() => document.getElementById('docs').href),
      'https://github.com/tab-keystore/tab-keystore#readme',
    )
    await fill(page, { name: 'token', value: 'demo-secret', ttl: '30' })
    await click(page, 'set-button')
    await click(page, 'set-bytes')
    await page.waitFor(() => document.querySelector('tr[data-key=masterKey]') !== null)
    assert.equal(await text(page, 'tr[data-key=token] td:nth-child(2)'), 'demo-secret')
    assert.match(await text(page, 'tr[data-key=masterKey] td:nth-child(2)'), /^32 bytes: [0-9a-f]{12}…$/)
    const before = Number.parseInt(await text(page, 'tr[data-key=token] .expires'), 10)
    assert.ok(before <= 30 && before >= 29, `countdown starts at ${before} s`)

    await page.click('#reload')
    await page.waitFor(() => document.querySelector('tr[data-key=token]') !== null)
    assert.match(await text(page, 'tr[data-key=masterKey] td:nth-child(2)'), /^32 bytes/)
    assert.match(await text(page, '#log'), /restored 2 key\(s\) \(reload\)/)
    await page.sleep(1300)
    const after = Number.parseInt(await text(page, 'tr[data-key=token] .expires'), 10)
    assert.ok(after < before, `countdown moves: ${before} s then ${after} s`)
    const shown = JSON.parse(await text(page, '#window-name'))
    assert.match(shown['tab-keystore:demo'], /^[0-9a-f]{64}$/)
    assert.doesNotMatch(
      await text(page, '#session-storage'),
      /tab-keystore:demo =/,
      'no sealed state while the page is alive',
    )

    // Another tab gets the keys from this one.
    const other = await context.waitForPage(() => click(page, 'new-tab'))
    await other.waitFor(() => window.ready === true && document.querySelector('tr[data-key=masterKey]') !== null)
    assert.match(await text(other, '#log'), /restored 2 key\(s\) \(tab\)/)

    // The persistent tier: log in, keep the master key, lose it here, read it back.
    await click(page, 'login')
    await page.waitFor(() => document.getElementById('vault-state').textContent.includes('vault'))
    const masterKey = await page.eval(() => Array.from(window.store.get('masterKey')))
    await click(page, 'vault-keep')
    await page.waitFor(() => document.getElementById('vault-state').textContent.includes('kept'))
    await page.eval(() => window.store.delete('masterKey'))
    await click(page, 'vault-read')
    await page.waitFor(() => document.getElementById('vault-state').textContent.includes('read back'))
    assert.deepEqual(await page.eval(() => Array.from(window.store.get('masterKey'))), masterKey)
    assert.match(await text(page, '#local-storage'), /tab-keystore:p:/)
    // Logged in, a reload opens the vault again.
    await page.click('#reload')
    await page.waitFor(() => document.getElementById('vault-state')?.textContent.startsWith('Logged in;'))
    await click(page, 'logout')
    await page.waitFor(() => document.getElementById('vault-state').textContent.includes('Logged out'))

    await click(page, 'clear')
    assert.equal(await page.eval(() => document.getElementById('empty').hidden), false)
    assert.deepEqual(await page.eval(() => window.demoErrors), [])
    assert.doesNotMatch(await text(page, '#log'), /error/)
    assert.deepEqual(env.notFound, [], 'no request went unanswered (favicon included)')
    assert.deepEqual(failed, [], 'no request failed: a logged-out page does not ask for the key')
    await context.close()
  },
)

test(named('8b. the demo lays out at phone width (390 px) without a horizontal scroll'), async () => {
  const context = await env.browser.newContext()
  const page = await context.newPage(`${env.server.origin}/e2e/pages/narrow.html?src=/demo/`)
  await page.waitFor(() => document.getElementById('frame').contentWindow.ready === true)
  const width = await page.eval(() => {
    const doc = document.getElementById('frame').contentDocument
    doc.getElementById('set-bytes').click()
    return doc.documentElement.scrollWidth
  })
  assert.ok(width <= 390, `the page is ${width} px wide in a 390 px viewport`)
  await context.close()
})
