// A static server for the browser tests, the demo and the benchmark. Serves only what a
// page needs: the built dist/, the pages, and @noble/ciphers (mapped by an import map,
// as a bundler would resolve it). Listens on 127.0.0.1 only.
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const allowed = [
  '/dist/',
  '/e2e/pages/',
  '/demo/',
  '/bench/pages/',
  '/bench/.scratch/',
  '/node_modules/@noble/ciphers/',
]
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
}

/** Answers `body` as JSON that no cache keeps (the secrets a test page fetches); true, as `api` returns for a request it answered. */
export function sendJson(response, body) {
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
  return true
}

/**
 * Starts the server on 127.0.0.1 (port 0: any free port). `isolated` adds COOP/COEP so
 * performance.now() is precise; `api(request, response)` may answer a request first;
 * `notFound(path)` hears every 404.
 */
export async function startServer({ port = 0, isolated = false, api, notFound } = {}) {
  const server = createServer(async (request, response) => {
    // An optional backend for the tests (e2e/backend.js): it answers first when it knows the route.
    if (api && (await api(request, response))) return
    // `/redirect?to=URL`: a 302 to a page of the tests (under either site), as a single
    // sign-on provider bounces a user back to the app.
    const asked = new URL(request.url, 'http://x')
    if (asked.pathname === '/redirect') {
      const to = new URL(asked.searchParams.get('to') ?? '/', `http://127.0.0.1:${server.address().port}`)
      if (['127.0.0.1', 'localhost'].includes(to.hostname) && to.port === String(server.address().port)) {
        response.writeHead(302, { location: to.href, 'cache-control': 'no-store' }).end()
        return
      }
    }
    let path = normalize(decodeURIComponent(asked.pathname))
    if (path === '/') path = '/demo/'
    if (path.endsWith('/')) path += 'index.html'
    if (!allowed.some((prefix) => path.startsWith(prefix))) {
      notFound?.(path)
      response.writeHead(404).end('not found')
      return
    }
    try {
      const body = await readFile(join(root, path))
      // CORS: pages in sandboxed (opaque-origin) frames load their module scripts cross-origin.
      // no-cache, not no-store: Firefox keeps no-store pages out of the back/forward
      // cache, and most apps serve their HTML revalidated, not unstorable.
      // `?nostore` serves a page `no-store`, as many authenticated apps do (Firefox keeps it
      // out of the back/forward cache).
      const noStore = new URL(request.url, 'http://x').searchParams.has('nostore')
      const headers = {
        'content-type': types[extname(path)] ?? 'application/octet-stream',
        'cache-control': noStore ? 'no-store' : 'no-cache',
        'access-control-allow-origin': '*',
      }
      if (isolated)
        Object.assign(headers, {
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
        })
      response.writeHead(200, headers).end(body)
    } catch {
      notFound?.(path)
      response.writeHead(404).end('not found')
    }
  })
  // `/ws` accepts a WebSocket and keeps it open, saying nothing: what an app's live
  // connection looks like to the back/forward cache.
  const sockets = new Set()
  server.on('upgrade', (request, socket) => {
    if (new URL(request.url, 'http://x').pathname !== '/ws') return socket.destroy()
    const accept = createHash('sha1')
      .update(`${request.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64')
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    )
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const actual = server.address().port
  return {
    port: actual,
    /** The same server under two sites: 127.0.0.1 and localhost are different sites to the browser. */
    origin: `http://127.0.0.1:${actual}`,
    otherSite: `http://localhost:${actual}`,
    // Browsers keep connections alive: close them too, or the test process lingers.
    close: () =>
      new Promise(
        (resolve) => (server.close(resolve), server.closeAllConnections(), sockets.forEach((s) => s.destroy())),
      ),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `npm run demo`: PORT, or 5173, or any free port when that one is taken.
  const { createBackend } = await import('./backend.js')
  const { api } = createBackend()
  const wanted = Number(process.env.PORT ?? 5173)
  let server
  try {
    server = await startServer({ port: wanted, api })
  } catch (error) {
    if (error.code !== 'EADDRINUSE') throw error
    server = await startServer({ api })
    console.log(`port ${wanted} is taken; using ${server.port} instead (set PORT to choose)`)
  }
  console.log(`tab-keystore demo: ${server.origin}/demo/  (Ctrl+C to stop)`)
  // `npm run demo` runs this under a shell that npm signals, not this process: a SIGTERM
  // to npm (a task runner's stop, a plain `kill`) ended npm and the shell and left this
  // server holding the port. Orphaned, it has no one to serve for: it stops.
  const parent = process.ppid
  const watch = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(watch)
    server.close().then(() => process.exit(0))
  }, 500)
  watch.unref()
}
