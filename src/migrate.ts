/*
 * session-keystore, which this library replaces, left each store's keys split in two halves
 * under `session-keystore:<name>`: one in the top window's `window.name` (a JSON object of
 * such entries), the other in `sessionStorage`. Together they give the keys back, for the
 * life of the tab: the sessionStorage half reaches the disk, and Chromium shows the
 * `window.name` half to other sites. They are removed, not migrated: how exposed they were
 * before this page cannot be known, and carrying them into sealed state would vouch for them.
 *
 * Nothing is reported: nothing failed, and an app upgrading from session-keystore sees
 * what a new tab shows (an empty store, a `restored` event of source `none`), once. An
 * `error` event would be read as a fault and a `cleared` one as a loss of keys this
 * store held; the README's migration note says it instead.
 */
const LEGACY = 'session-keystore:'

/** Removes session-keystore's halves of store `name`, in a browser window; never throws. */
export function dropLegacy(name: string): void {
  if (typeof window !== 'object' || typeof document !== 'object') return
  const key = LEGACY + name
  try {
    sessionStorage.removeItem(key)
  } catch {
    // no sessionStorage here (sandboxed frame, storage blocked): no half there either
  }
  try {
    // session-keystore wrote the top window's name: this window's, unless this page is a frame.
    const top = window.top!
    const text = top.name
    // The look for the prefix spares the parse on nearly every load.
    if (!text.includes(LEGACY)) return
    const entries: unknown = JSON.parse(text)
    if (typeof entries !== 'object' || entries === null || !Object.hasOwn(entries, key)) return
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a plain object of our own parsing
    delete (entries as Record<string, unknown>)[key]
    // Everything else is kept, as session-keystore itself did when it took its half.
    const rest = JSON.stringify(entries)
    top.name = rest === '{}' ? '' : rest
  } catch {
    // the top window is of another origin, or its name is not JSON: no half of ours there
  }
}
