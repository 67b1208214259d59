// Nothing readable reaches the disk: a browser on a profile directory of its own runs a
// page that stores secrets and reloads; after it closes, every file is scanned (Firefox's
// compressed session store decompressed) for the secrets and the shares, with a positive
// control written next to them that must be found, or the scan proves nothing.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { encodings, engine, named, scanDirectory } from './helpers.js'
import { sendJson, startServer } from './server.js'

// Where each engine keeps web storage, measured: Chromium writes sessionStorage to
// `Session Storage/` (LevelDB); Firefox's session store writes it, mozLz4-compressed, to
// `sessionstore-backups/recovery.jsonlz4`; WebKit never writes sessionStorage, but
// localStorage goes to `webkitgtk-4.1/MiniBrowser/localstorage/`.
const CONTROL = { chromium: 'session', firefox: 'session', webkit: 'local' }

test(
  named('6. after a reload and a wait, the profile holds neither the secrets nor S1; a plain storage control is found'),
  { timeout: 120_000 },
  async () => {
    const secrets = {
      token: `disk-secret-${randomBytes(12).toString('hex')}`,
      bytes: [...randomBytes(32)],
      control: `disk-control-${randomBytes(12).toString('hex')}`,
    }
    const reports = []
    let reported
    const server = await startServer({
      api: async (request, response) => {
        const { pathname } = new URL(request.url, 'http://x')
        if (pathname === '/secrets') return sendJson(response, secrets)
        if (pathname !== '/report') return false
        let body = ''
        for await (const chunk of request) body += chunk
        reports.push(JSON.parse(body))
        response.end()
        if (reports.length === 2) reported()
        return true
      },
    })
    const profile = await mkdtemp(join(tmpdir(), `tab-keystore-disk-${engine.name}-`))
    try {
      const done = new Promise((resolve) => (reported = resolve))
      const browser = await engine.launchProfile(profile, `${server.origin}/e2e/pages/disk.html`)
      let timer
      await Promise.race([
        done,
        new Promise(
          (_, reject) =>
            (timer = setTimeout(() => reject(new Error(`the page reported ${JSON.stringify(reports)} only`)), 30_000)),
        ),
      ])
      clearTimeout(timer)
      assert.equal(reports[1].restored, true, 'the keys survived the reload')
      // Let the browser write what it writes: Chromium flushes DOM storage within seconds,
      // Firefox's session store runs every 2 s here (15 s by default).
      await new Promise((resolve) => setTimeout(resolve, 8000))
      await browser.close()

      const needles = [
        ...encodings('secret', Buffer.from(secrets.token)),
        ...encodings('secret bytes', Buffer.from(secrets.bytes)),
        ...reports.flatMap((r, i) => encodings(`S1 #${i + 1}`, Buffer.from(r.share, 'hex'))),
      ]
      const { hits, files } = await scanDirectory(profile, needles)
      const control = (
        await scanDirectory(profile, encodings('control', Buffer.from(`${CONTROL[engine.name]}-${secrets.control}`)))
      ).hits
      assert.ok(files > 3, `scanned ${files} files`)
      assert.ok(
        control.length > 0,
        `the ${CONTROL[engine.name]}Storage control must be found on disk, or the scan proves nothing`,
      )
      assert.deepEqual(hits, [])
      console.log(
        `${engine.name}: scanned ${files} files; control found as ${control.join(', ')}; no secret nor share found`,
      )
    } finally {
      await rm(profile, { recursive: true, force: true })
      await server.close()
    }
  },
)
