/**
 * One encode of a whole big doc without lib0's growth copies (big-doc-worker.ts snapshots).
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/**
 * `Y.encodeStateAsUpdate(doc)`, written into one buffer of `sizeHint` bytes when it fits, and
 * returned as a view of it (from offset 0) instead of a copy. Why: lib0's encoder grows by
 * doubling chunks and then copies them into one array, so a 26 MB encode allocated ~70 MB
 * (44.5 MB of chunks + the copy, heaptrack), garbage on this thread until its next GC. Past
 * the hint the encoder grows as usual and the result is a copy, as before.
 * @param sizeHint bytes to allocate at once: about the encoded size (the bytes of the updates
 *   that built the doc); too small costs the old growth, too big is copied out (see below)
 * @returns exactly the bytes of `Y.encodeStateAsUpdate(doc)`; possibly a view, from offset 0, of
 *   a bigger buffer that nothing else uses (the caller may transfer it)
 */
export function encodeWhole(doc: Y.Doc, sizeHint: number): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  const rest = encoder.restEncoder
  rest.cbuf = new Uint8Array(Math.max(rest.cbuf.byteLength, sizeHint))
  // An own method, not a subclass: Yjs tells v1 from v2 by `encoder.constructor`.
  // A view holds the whole buffer: copied out when the hint was more than twice too big
  // (updates that deleted what others inserted), so at most the encode's size is wasted.
  encoder.toUint8Array = () =>
    rest.bufs.length > 0
      ? encoding.toUint8Array(rest)
      : rest.cpos * 2 < rest.cbuf.byteLength
        ? rest.cbuf.slice(0, rest.cpos)
        : rest.cbuf.subarray(0, rest.cpos)
  return Y.encodeStateAsUpdateV2(doc, undefined, encoder)
}
