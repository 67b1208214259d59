// The persistent tier with real parts: a backend with cookie sessions that issues a key
// per login and forgets it at logout, and a browser on a profile directory, restarted
// between steps. The page drives itself (e2e/pages/vault.html), so every engine runs it
// without automation (WebKit's automation sessions keep nothing on disk).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createBackend } from './backend.js'
import { encodings, engine, named, open, scanDirectory, setup } from './helpers.js'
import { sendJson, startServer } from './server.js'

test(
  named(
    'log in, store secrets, restart the browser: back without the password; log out: nothing opens, leftovers cleaned; nothing readable on disk',
  ),
  { timeout: 180_000 },
  async () => {
    const backend = createBackend()
    const secrets = {
      token: `vault-token-${randomBytes(12).toString('hex')}`,
      control: `vault-control-${randomBytes(12).toString('hex')}`,
    }
    const waiting = new Map()
    const server = await startServer({
      api: async (request, response) => {
        const { pathname } = new URL(request.url, 'http://x')
        if (pathname === '/secrets') return sendJson(response, secrets)
        if (pathname === '/report') {
          let body = ''
          for await (const chunk of request) body += chunk
          const report = JSON.parse(body)
          response.end()
          waiting.get(report.step)?.(report)
          return true
        }
        return backend.api(request, response)
      },
    })
    const profile = await mkdtemp(join(tmpdir(), `tab-keystore-vault-${engine.name}-`))
    /** One browser process: opens the step's page, waits for its report, closes. */
    const step = async (name, linger = 0) => {
      const reported = new Promise((resolve) => waiting.set(name, resolve))
      const browser = await engine.launchProfile(profile, `${server.origin}/e2e/pages/vault.html?step=${name}`)
      let timer
      try {
        const report = await Promise.race([
          reported,
          new Promise(
            (_, reject) => (timer = setTimeout(() => reject(new Error(`no report from step ${name}`)), 60_000)),
          ),
        ])
        assert.equal(report.error, undefined, `step ${name}`)
        // Give the browser time to write cookies and storage before it is closed: Firefox
        // writes localStorage about 5 s after a change, and closing it does not flush that.
        await new Promise((resolve) => setTimeout(resolve, linger))
        return report
      } finally {
        clearTimeout(timer)
        await browser.close()
      }
    }
    try {
      // 1. Log in (the master key is derived from the password), store the secrets.
      const first = await step('login', 8000)
      assert.equal(first.state.loggedIn, true)
      const namespace = first.state.namespace

      // 2. A new browser process: the secrets come back without the password. Then log out.
      const again = await step('again', 1000)
      assert.deepEqual(again.state, { loggedIn: true, namespace })
      assert.deepEqual(again.found, [secrets.token, first.masterKey], JSON.stringify(again.keys))
      assert.equal(backend.sessions.size, 0, 'the server forgot the key')

      // 3. Reopen: nothing can be opened; a new login gets a new key and namespace, the old
      // entries do not open with it, and the leftovers are dropped.
      const last = await step('after-logout', 5000)
      assert.deepEqual(last.state, { loggedIn: false, leftovers: [namespace] })
      assert.match(last.oldOpens, /does not open namespace .* nothing was deleted/)
      assert.ok(last.dropped >= 3, `dropped ${last.dropped}`)
      assert.ok(
        last.left.length > 0 && last.left.every((k) => !k.includes(encodeURIComponent(namespace))),
        `only the new session remains: ${last.left}`,
      )

      // 4. The profile on disk holds neither the secrets nor the server keys.
      const needles = [
        ...encodings('token', Buffer.from(secrets.token)),
        ...encodings('master key', Buffer.from(first.masterKey)),
        ...[first.serverKey, last.serverKey].flatMap((key, i) =>
          encodings(`server key #${i + 1}`, Buffer.from(key, 'base64')),
        ),
      ]
      const { hits } = await scanDirectory(profile, needles)
      const { hits: controlHits } = await scanDirectory(profile, encodings('control', Buffer.from(secrets.control)))
      assert.ok(
        controlHits.length > 0,
        'the plain localStorage control must be found on disk, or the scan proves nothing',
      )
      assert.deepEqual(hits, [])
    } finally {
      await rm(profile, { recursive: true, force: true })
      await server.close()
    }
  },
)

const env = setup({ api: createBackend().api })

test(
  named('the IndexedDB adapter keeps sealed entries across pages, and a wrong key opens nothing'),
  { timeout: 60_000 },
  async () => {
    const context = await env.browser.newContext()
    const run = async (script, arg) => {
      const page = await open(context, `${env.server.origin}/e2e/pages/vault.html`)
      const result = await page.eval(script, arg)
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
      const wrong = await PersistentKeystore.open({
        namespace: 'idb',
        key: btoa('x'.repeat(32)),
        storage: 'indexedDB',
      }).then(
        () => 'opened',
        (e) => e.message,
      )
      return {
        k: Array.from(await vault.get('k')),
        s: await vault.get('s'),
        keys: (await vault.keys()).sort(),
        wrong,
        inLocalStorage: localStorage.length,
      }
    }, key)
    assert.deepEqual(back.k, [4, 5, 6])
    assert.equal(back.s, 'in indexeddb')
    assert.deepEqual(back.keys, ['k', 's'])
    assert.match(back.wrong, /does not open namespace "idb"/)
    assert.equal(back.inLocalStorage, 0)

    // A logout in another tab deletes the database while this one holds a vault open: the
    // deletion must not wait for this page, and the vault must go on working afterwards.
    const holder = await open(context, `${env.server.origin}/e2e/pages/vault.html`)
    await holder.eval(async (key) => {
      const { PersistentKeystore } = await import('/dist/persistent.js')
      window.idbVault = await PersistentKeystore.open({ namespace: 'idb', key, storage: 'indexedDB' })
      await window.idbVault.get('k')
    }, key)
    const logout = await open(context, `${env.server.origin}/e2e/pages/vault.html`)
    const deletion = await logout.eval(
      () =>
        new Promise((resolve) => {
          const request = indexedDB.deleteDatabase('tab-keystore')
          request.onsuccess = () => resolve('deleted')
          request.onerror = () => resolve('error')
          setTimeout(() => resolve('still blocked after 3 s'), 3000)
        }),
    )
    assert.equal(deletion, 'deleted')
    assert.deepEqual(await holder.eval(async () => [await window.idbVault.get('k'), await window.idbVault.keys()]), [
      null,
      [],
    ])
    await context.close()
  },
)
