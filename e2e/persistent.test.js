// The persistent tier with real parts: a backend with cookie sessions that issues a key
// per login and forgets it at logout, and a persistent Chromium profile across restarts.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createBackend } from './backend.js'
import { launch, launchPersistent } from './browser.js'
import { encodings, ready, scanDirectory } from './helpers.js'
import { startServer } from './server.js'

test('log in, store secrets, restart the browser: back without the password; log out: nothing opens, leftovers cleaned; nothing readable on disk', { timeout: 180_000 }, async () => {
  const backend = createBackend()
  const server = await startServer({ api: backend.api })
  const profile = await mkdtemp(join(tmpdir(), 'tab-keystore-vault-'))
  const url = `${server.origin}/e2e/pages/vault.html`
  const browser = async () => {
    const context = await launchPersistent(profile)
    const page = context.pages()[0] ?? (await context.newPage())
    await page.goto(url)
    await ready(page)
    return { context, page }
  }
  try {
    const token = `vault-token-${randomBytes(12).toString('hex')}`
    const control = `vault-control-${randomBytes(12).toString('hex')}`
    const serverKeys = []

    // 1. Log in (the master key is derived from the password), store the secrets.
    let { context, page } = await browser()
    assert.deepEqual(await page.evaluate(() => window.state), { loggedIn: false, leftovers: [] })
    const masterKey = await page.evaluate(() => window.login('alice', 'correct horse battery staple'))
    await page.evaluate(([t, c]) => {
      localStorage.setItem('control', c) // positive control for the disk scan
      return window.vault.set('token', t, Date.now() + 86_400_000)
    }, [token, control])
    const namespace = await page.evaluate(() => window.state.namespace)
    serverKeys.push(await page.evaluate(() => window.serverKey))
    await context.close()

    // 2. A new browser process: the secrets come back without the password.
    ;({ context, page } = await browser())
    assert.deepEqual(await page.evaluate(() => window.state), { loggedIn: true, namespace })
    assert.deepEqual(
      await page.evaluate(async () => [await window.vault.get('token'), Array.from(await window.vault.get('masterKey'))]),
      [token, masterKey],
    )

    // 3. Log out: the server forgets the key. Reopen: nothing can be opened.
    await page.evaluate(() => window.logout())
    assert.equal(backend.sessions.size, 0)
    await context.close()
    ;({ context, page } = await browser())
    assert.deepEqual(await page.evaluate(() => window.state), { loggedIn: false, leftovers: [namespace] })
    // A new login gets a new key and namespace; the old entries do not open with it.
    await page.evaluate(() => window.login('alice', 'correct horse battery staple'))
    serverKeys.push(await page.evaluate(() => window.serverKey))
    const attempt = await page.evaluate(async (old) => {
      const { PersistentKeystore } = await import('/dist/persistent.js')
      try {
        await PersistentKeystore.open({ namespace: old, key: window.serverKey })
        return 'opened'
      } catch (error) {
        return error.message
      }
    }, namespace)
    assert.match(attempt, /does not open namespace .* nothing was deleted/)
    // The leftovers are cleaned.
    assert.ok((await page.evaluate(() => window.dropLeftovers())) >= 3)
    const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tab-keystore:p:')))
    assert.ok(left.length > 0 && left.every((k) => !k.includes(encodeURIComponent(namespace))), `only the new session remains: ${left}`)
    await page.waitForTimeout(5000) // let Chromium write localStorage to disk
    await context.close()

    // 4. The profile on disk holds neither the secrets nor the server keys.
    const needles = [
      ...encodings('token', Buffer.from(token)),
      ...encodings('master key', Buffer.from(masterKey)),
      ...serverKeys.flatMap((key, i) => encodings(`server key #${i + 1}`, Buffer.from(key, 'base64'))),
    ]
    const { hits } = await scanDirectory(profile, needles)
    const { hits: controlHits } = await scanDirectory(profile, encodings('control', Buffer.from(control)))
    assert.ok(controlHits.length > 0, 'the plain localStorage control must be found on disk, or the scan proves nothing')
    assert.deepEqual(hits, [])
  } finally {
    await rm(profile, { recursive: true, force: true })
    await server.close()
  }
})

test('the IndexedDB adapter keeps sealed entries across pages, and a wrong key opens nothing', { timeout: 60_000 }, async () => {
  const server = await startServer({ api: createBackend().api })
  const browser = await launch()
  try {
    const context = await browser.newContext()
    const run = async (script, arg) => {
      const page = await context.newPage()
      await page.goto(`${server.origin}/e2e/pages/vault.html`)
      await ready(page)
      const result = await page.evaluate(script, arg)
      await page.close()
      return result
    }
    const key = randomBytes(32).toString('base64')
    await run(async (key) => {
      const { PersistentKeystore } = await import('/dist/persistent.js')
      const vault = await PersistentKeystore.open({ namespace: 'idb', key, storage: 'indexedDB' })
      await vault.set('k', new Uint8Array([4, 5, 6]))
      await vault.set('s', 'in indexeddb')
      vault.close()
    }, key)
    const back = await run(async (key) => {
      const { PersistentKeystore } = await import('/dist/persistent.js')
      const vault = await PersistentKeystore.open({ namespace: 'idb', key, storage: 'indexedDB' })
      const wrong = await PersistentKeystore.open({ namespace: 'idb', key: btoa('x'.repeat(32)), storage: 'indexedDB' }).then(() => 'opened', (e) => e.message)
      return { k: Array.from(await vault.get('k')), s: await vault.get('s'), keys: (await vault.keys()).sort(), wrong, inLocalStorage: localStorage.length }
    }, key)
    assert.deepEqual(back.k, [4, 5, 6])
    assert.equal(back.s, 'in indexeddb')
    assert.deepEqual(back.keys, ['k', 's'])
    assert.match(back.wrong, /does not open namespace "idb"/)
    assert.equal(back.inLocalStorage, 0)
  } finally {
    await browser.close()
    await server.close()
  }
})
