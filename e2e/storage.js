// Page functions for a full localStorage, shared by the fail-closed tests and the walk
// (which must not import helpers.js: it picks its engine at import).

/**
 * Run in a page (`page.eval(fillLocalStorage)`): fills localStorage to the brim, big values
 * first, then keys of one character with no value until not even that fits, so that any
 * write that grows is refused. Says whether two more characters were refused.
 */
export function fillLocalStorage() {
  let size = 1 << 20
  for (let i = 0; size >= 1; i++) {
    try {
      localStorage.setItem(`fill-${i}`, 'x'.repeat(size))
    } catch {
      size >>= 1
    }
  }
  for (let c = 0x4e00; c < 0x9fff; c++) {
    try {
      localStorage.setItem(String.fromCharCode(c), '')
    } catch {
      break
    }
  }
  try {
    localStorage.setItem('fill-probe', 'xx')
    localStorage.removeItem('fill-probe')
    return false
  } catch {
    return true
  }
}

/** Run in a page: removes what `fillLocalStorage` wrote (everything but the library's keys). */
export function unfillLocalStorage() {
  for (const key of Object.keys(localStorage)) if (!key.startsWith('tab-keystore')) localStorage.removeItem(key)
}
