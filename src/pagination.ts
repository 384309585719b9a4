import { fromBase64Url, toBase64Url } from './encoding'
import { ApiError } from './errors'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** An opaque cursor for keyset pagination: the last id of a page, encoded. */
export const encodeCursor = (lastId: string) => toBase64Url(encoder.encode(lastId))

/** Decodes a cursor; anything that is not one of ours is a 400 `api/validation-failed`, not a 500. */
export function decodeCursor(cursor: string, idPattern: RegExp): string {
  let id = ''
  try {
    id = decoder.decode(fromBase64Url(cursor))
  } catch {
    // falls through to the refusal below
  }
  if (!idPattern.test(id)) {
    throw new ApiError('api/validation-failed', undefined, [{ path: 'cursor', message: 'Not a cursor from a previous page.' }])
  }
  return id
}
