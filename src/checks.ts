import { type Value, assertWellFormed, isBytes, padLength } from './encoding'
import { invalid, refuse } from './errors'
import type { EverywhereOptions, SessionKeystoreOptions } from './schema'

/** The options other than `name`, the type each must have, and what to say when it has not. */
const OPTIONS = [
  ['tabs', 'function', "the `tabs` export of 'tab-keystore/tabs'"],
  ['idle', 'function', "made by `idle()` of 'tab-keystore/idle'"],
  ['onAccess', 'function', 'a function'],
  ['onChanged', 'function', 'a function'],
  ['onExpired', 'function', 'a function'],
  ['sealWhenHidden', 'boolean', 'a boolean'],
] as const

/** Sealed state can be at most 5 Mi UTF-16 units, 15 bits each (Chromium's and Firefox's quota). */
const MAX_SEALED = 9_830_400

/**
 * The options of `new SessionKeystore()`, checked before anything changes (for a name
 * already open, before its options are replaced); returns the store's name. An option
 * this version does not know is refused rather than ignored: a misspelt one, or one of
 * an earlier version, would otherwise leave a setting (a security one, for `idleTimeout`)
 * silently off.
 */
export function checkOptions(options: SessionKeystoreOptions): string {
  if (typeof options !== 'object' || options === null) invalid('options', 'an object', options)
  const known: string[] = ['name', ...OPTIONS.map(([option]) => option)]
  for (const option of Object.keys(options)) {
    if (option === 'idleTimeout') refuse("options.idleTimeout was replaced by idle: idle(ms), from 'tab-keystore/idle'")
    if (!known.includes(option)) refuse(`options.${option} is not an option; the options are ${known.join(', ')}`)
  }
  const { name = 'default' } = options
  if (typeof name !== 'string') invalid('options.name', 'a non-empty string', name)
  if (!name) invalid('options.name', 'a non-empty string', name, true)
  for (const [option, type, expected] of OPTIONS) {
    if (options[option] !== undefined && typeof options[option] !== type)
      invalid(`options.${option}`, expected, options[option])
  }
  return name
}

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string') invalid('name', 'a string', name)
}

/** The key and value of `set`. A name already in the store was checked when it came in. */
export function checkEntry(name: unknown, value: unknown, known: boolean): asserts name is string {
  checkName(name)
  if (typeof value === 'string') assertWellFormed(value, 'value')
  else if (!isBytes(value)) invalid('value', 'a string or a Uint8Array', value)
  if ((value as Value).length > 8e6 && padLength((value as Value).length + name.length + 64) > MAX_SEALED) {
    invalid('value', 'small enough to survive a reload (about 9.7 MB at most in any browser)', value, true)
  }
  if (!known) assertWellFormed(name, 'name')
}

/** The options of clear/delete; true when the caller asks for every tab (which needs the `tabs` option). */
export function checkEverywhere(options: EverywhereOptions | undefined, tabs: boolean): boolean {
  if (options === undefined) return false
  if (typeof options !== 'object' || options === null) invalid('options', 'an object', options)
  const { everywhere = false } = options
  if (typeof everywhere !== 'boolean') invalid('options.everywhere', 'a boolean', everywhere)
  if (everywhere && !tabs)
    invalid(
      'options.everywhere',
      "false: the store was created without the option tabs (from 'tab-keystore/tabs')",
      everywhere,
      true,
    )
  return everywhere
}
