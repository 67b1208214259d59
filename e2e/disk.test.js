// Nothing readable reaches the disk: a persistent Chromium profile is scanned byte by byte
// after the browser closes, with a positive control proving the scan sees sessionStorage.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { launchPersistent } from './browser.js'
import { encodings, pageUrl, ready, scanDirectory } from './helpers.js'
import { startServer } from './server.js'

test('6. after a reload and 15 s, the profile holds neither the secrets nor S1; a plain sessionStorage control is found', { timeout: 120_000 }, async () => {
  const server = await startServer()
  const profile = await mkdtemp(join(tmpdir(), 'tab-keystore-profile-'))
  try {
    const secret = `disk-secret-${randomBytes(12).toString('hex')}`
    const secretBytes = randomBytes(32)
    const controlText = `disk-control-${randomBytes(12).toString('hex')}`
    const context = await launchPersistent(profile)
    const page = context.pages()[0] ?? (await context.newPage())
    await page.goto(pageUrl(server.origin))
    await ready(page)
    const shares = []
    const share = async () => shares.push(Buffer.from(JSON.parse(await page.evaluate(() => window.name))['tab-keystore:e2e'], 'hex'))
    await share()
    await page.evaluate(([s, b, c]) => {
      window.store.set('token', s)
      window.store.set('masterKey', new Uint8Array(b))
      sessionStorage.setItem('control', c)
    }, [secret, [...secretBytes], controlText])
    await page.reload()
    await ready(page)
    await share()
    assert.equal(await page.evaluate(() => window.store.get('token')), secret)
    await page.waitForTimeout(15_000)
    await context.close()

    const needles = [
      ...encodings('secret', Buffer.from(secret)),
      ...encodings('secret bytes', secretBytes),
      ...shares.flatMap((s, i) => encodings(`S1 #${i + 1}`, s)),
    ]
    const { hits, files } = await scanDirectory(profile, needles)
    const control = (await scanDirectory(profile, encodings('control', Buffer.from(controlText)))).hits
    assert.ok(files > 10, `scanned ${files} files`)
    assert.ok(control.length > 0, 'the control written with sessionStorage.setItem must be found on disk, or the scan proves nothing')
    assert.deepEqual(hits, [])
    console.log(`scanned ${files} files; control found as ${control.join(', ')}; no secret nor share found`)
  } finally {
    await rm(profile, { recursive: true, force: true })
    await server.close()
  }
})
