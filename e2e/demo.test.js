// The demo page (`npm run demo`) driven as a person would use it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './helpers.js'

const env = setup()

test('8. demo: set keys, reload, watch the countdown, see what window.name and sessionStorage hold', async () => {
  const page = await env.browser.newPage()
  await page.goto(`${env.server.origin}/demo/`)
  await page.waitForFunction(() => window.ready === true)
  await page.fill('#name', 'token')
  await page.fill('#value', 'demo-secret')
  await page.fill('#ttl', '30')
  await page.click('#set-button')
  await page.fill('#name', 'forever')
  await page.fill('#value', 'kept')
  await page.fill('#ttl', '')
  await page.click('#set-button')
  const row = page.locator('tr[data-key=token]')
  assert.equal(await row.locator('td').nth(1).textContent(), 'demo-secret')
  const before = Number.parseInt(await row.locator('.expires').textContent(), 10)
  assert.ok(before <= 30 && before >= 29, `countdown starts at ${before} s`)

  await page.click('#reload')
  await page.waitForFunction(() => window.ready === true && document.querySelector('tr[data-key=token]'))
  assert.equal(await page.locator('tr[data-key=forever] td').nth(1).textContent(), 'kept')
  assert.match(await page.locator('#log').textContent(), /restored 2 key\(s\)/)
  await page.waitForTimeout(1300)
  const after = Number.parseInt(await page.locator('tr[data-key=token] .expires').textContent(), 10)
  assert.ok(after < before, `countdown moves: ${before} s then ${after} s`)
  const shown = JSON.parse(await page.locator('#window-name').textContent())
  assert.match(shown['tab-keystore:demo'], /^[0-9a-f]{64}$/)
  assert.equal(await page.locator('#session-storage').textContent(), '(empty)')

  await page.click('#clear')
  assert.equal(await page.locator('#empty').isVisible(), true)
  await page.close()
})
