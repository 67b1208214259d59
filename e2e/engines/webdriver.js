// A thin W3C WebDriver client over fetch, for WebKitGTK's WebKitWebDriver: the few
// commands the engine layer needs, and no dependencies. (The npm clients bring dozens of
// packages for a protocol that is JSON over HTTP.)

export class WebDriverSession {
  constructor(base, id) {
    this.base = base
    this.id = id
  }

  static async create(base, capabilities) {
    const { sessionId } = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } })
    return new WebDriverSession(base, sessionId)
  }

  command(method, path, body, timeout) {
    return request(this.base, method, `/session/${this.id}${path}`, body, timeout)
  }

  /** Runs `script` (a function body using `arguments`) and returns what its callback got. */
  executeAsync(script, args = [], timeout) {
    return this.command('POST', '/execute/async', { script, args }, timeout)
  }

  delete() {
    return this.command('DELETE', '')
  }
}

async function request(base, method, path, body, timeout = 30_000) {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A stuck command must fail rather than hang a test (see webkit.js for when it happens).
    signal: AbortSignal.timeout(timeout),
  })
  const text = await response.text()
  let value
  try {
    ;({ value } = JSON.parse(text))
  } catch {
    throw new Error(`WebDriver ${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`)
  }
  if (!response.ok || (value && typeof value === 'object' && 'error' in value && 'message' in value)) {
    const error = new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`)
    error.code = value?.error
    throw error
  }
  return value
}
