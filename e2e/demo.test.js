// The demo page (`npm run demo`) driven as a person would use it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { named, setup } from './helpers.js'

const env = setup()
const fill = (page, fields) =>
  page.eval((fields) => {
    for (const [id, value] of Object.entries(fields)) document.getElementById(id).value = value
  }, fields)
const click = (page, id) => page.eval((id) => document.getElementById(id).click(), id)
const text = (page, selector) => page.eval((selector) => document.querySelector(selector)?.textContent ?? null, selector)

test(named('8. demo: set keys, reload, watch the countdown, see what window.name and sessionStorage hold'), async () => {
  const context = await env.browser.newContext()
  const page = await context.newPage(`${env.server.origin}/demo/`)
  await fill(page, { name: 'token', value: 'demo-secret', ttl: '30' })
  await click(page, 'set-button')
  await fill(page, { name: 'forever', value: 'kept', ttl: '' })
  await click(page, 'set-button')
  assert.equal(await text(page, 'tr[data-key=token] td:nth-child(2)'), 'demo-secret')
  const before = Number.parseInt(await text(page, 'tr[data-key=token] .expires'), 10)
  assert.ok(before <= 30 && before >= 29, `countdown starts at ${before} s`)

  await page.click('#reload')
  await page.waitFor(() => document.querySelector('tr[data-key=token]') !== null)
  assert.equal(await text(page, 'tr[data-key=forever] td:nth-child(2)'), 'kept')
  assert.match(await text(page, '#log'), /restored 2 key\(s\)/)
  await page.sleep(1300)
  const after = Number.parseInt(await text(page, 'tr[data-key=token] .expires'), 10)
  assert.ok(after < before, `countdown moves: ${before} s then ${after} s`)
  const shown = JSON.parse(await text(page, '#window-name'))
  assert.match(shown['tab-keystore:demo'], /^[0-9a-f]{64}$/)
  assert.equal(await text(page, '#session-storage'), '(empty)')

  await click(page, 'clear')
  assert.equal(await page.eval(() => document.getElementById('empty').hidden), false)
  await context.close()
})
