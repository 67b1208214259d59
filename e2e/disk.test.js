// Nothing readable reaches the disk: a persistent Chromium profile is scanned byte by byte
// after the browser closes, with a positive control proving the scan sees sessionStorage.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { launchPersistent } from './browser.js'
import { pageUrl, ready } from './helpers.js'
import { startServer } from './server.js'

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* files(path)
    else if (entry.isFile()) yield path
  }
}

/** A text in every encoding worth looking for: UTF-8, UTF-16LE, and its UTF-8 bytes in base64 and hex. */
const textNeedles = (label, text) => {
  const utf8 = Buffer.from(text, 'utf8')
  return [
    [`${label} utf-8`, utf8],
    [`${label} utf-16le`, Buffer.from(text, 'utf16le')],
    [`${label} base64`, Buffer.from(utf8.toString('base64'))],
    [`${label} hex`, Buffer.from(utf8.toString('hex'))],
  ]
}
const byteNeedles = (label, bytes) => [
  [`${label} raw`, bytes],
  ...textNeedles(`${label} as hex`, bytes.toString('hex')),
  ...textNeedles(`${label} as base64`, bytes.toString('base64')),
]

test('6. after a reload and 15 s, the profile holds neither the secrets nor S1; a plain sessionStorage control is found', { timeout: 120_000 }, async () => {
  const server = await startServer()
  const profile = await mkdtemp(join(tmpdir(), 'tab-keystore-profile-'))
  try {
    const secret = `disk-secret-${randomBytes(12).toString('hex')}`
    const secretBytes = randomBytes(32)
    const control = `disk-control-${randomBytes(12).toString('hex')}`
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
    }, [secret, [...secretBytes], control])
    await page.reload()
    await ready(page)
    await share()
    assert.equal(await page.evaluate(() => window.store.get('token')), secret)
    await page.waitForTimeout(15_000)
    await context.close()

    const needles = [
      ...textNeedles('secret', secret),
      ...byteNeedles('secret bytes', secretBytes),
      ...shares.flatMap((s, i) => byteNeedles(`S1 #${i + 1}`, s)),
    ]
    const controls = textNeedles('control', control)
    const hits = []
    const controlHits = []
    let scanned = 0
    for await (const path of files(profile)) {
      const data = await readFile(path)
      scanned++
      for (const [label, needle] of needles) if (data.includes(needle)) hits.push(`${label} in ${path.slice(profile.length)}`)
      for (const [label, needle] of controls) if (data.includes(needle)) controlHits.push(`${label} in ${path.slice(profile.length)}`)
    }
    assert.ok(scanned > 10, `scanned ${scanned} files`)
    assert.ok(controlHits.length > 0, 'the control written with sessionStorage.setItem must be found on disk, or the scan proves nothing')
    assert.deepEqual(hits, [])
    console.log(`scanned ${scanned} files; control found as ${controlHits.join(', ')}; no secret nor share found`)
  } finally {
    await rm(profile, { recursive: true, force: true })
    await server.close()
  }
})
