// A small real backend for the persistent tier: cookie sessions, and one random key per
// login that the server hands to the authenticated client and forgets at logout. The
// server never sees what the client seals with it.
import { randomBytes } from 'node:crypto'

const USERS = { alice: 'correct horse battery staple' }

export function createBackend() {
  const sessions = new Map() // session id -> { user, key, namespace }
  const sessionOf = (request) => sessions.get(/(?:^|;\s*)sid=([0-9a-f]{64})/.exec(request.headers.cookie ?? '')?.[1])
  const json = (response, status, body, headers = {}) =>
    response
      .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
      .end(JSON.stringify(body))
  const readBody = (request) =>
    new Promise((resolve) => {
      let body = ''
      request.on('data', (chunk) => (body += chunk))
      request.on('end', () => resolve(body))
    })

  async function api(request, response) {
    const { pathname } = new URL(request.url, 'http://x')
    if (pathname === '/api/login' && request.method === 'POST') {
      let user, password
      try {
        ;({ user, password } = JSON.parse(await readBody(request)))
      } catch {
        return (json(response, 400, { error: 'bad request' }), true)
      }
      if (USERS[user] === undefined || USERS[user] !== password)
        return (json(response, 401, { error: 'wrong password' }), true)
      const sid = randomBytes(32).toString('hex')
      // The namespace names the user and the login session, never the session id itself.
      sessions.set(sid, {
        user,
        key: randomBytes(32),
        namespace: `user:${user}:session:${randomBytes(8).toString('hex')}`,
      })
      json(
        response,
        200,
        { ok: true },
        { 'set-cookie': `sid=${sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age=86400` },
      )
      return true
    }
    if (pathname === '/api/key' && request.method === 'GET') {
      const session = sessionOf(request)
      if (!session) return (json(response, 401, { error: 'not logged in' }), true)
      json(response, 200, { key: session.key.toString('base64'), namespace: session.namespace })
      return true
    }
    if (pathname === '/api/logout' && request.method === 'POST') {
      const sid = /(?:^|;\s*)sid=([0-9a-f]{64})/.exec(request.headers.cookie ?? '')?.[1]
      sessions.delete(sid) // the key is gone: what the client sealed with it is now useless
      json(response, 200, { ok: true }, { 'set-cookie': 'sid=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' })
      return true
    }
    return false
  }
  return { api, sessions }
}
