// What the engine adapters share: finding a browser, and stopping a process we started.
import { existsSync } from 'node:fs'

/** The first of `paths` (unset ones skipped) that exists on this machine. */
export const findBinary = (paths) => paths.filter(Boolean).find((path) => existsSync(path))

/** Stops a process we started: SIGTERM, then SIGKILL if it is still there 5 s later. */
export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
