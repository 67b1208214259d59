// Entry of the benchmark bundle: both libraries as a page would ship them, and the AEAD
// alone for the physical floor.
import sessionKeystore from 'session-keystore'

export { SessionKeystore as Ours } from '../dist/index.js'
export { chacha20poly1305 } from '@noble/ciphers/chacha.js'
// Issue 25's seals to the pages of a tab, timed part by part (not a public API).
export { Peers } from '../src/lifecycle/peers.ts'
// session-keystore is CommonJS with `exports.default`; from an ES module (this package
// is "type": "module") its default import is the whole exports object.
export const Theirs = sessionKeystore.default ?? sessionKeystore
