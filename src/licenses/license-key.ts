/**
 * Generated license keys: 25 symbols from a 32-letter alphabet without look-alikes (no 0/O, 1/I),
 * so 125 bits from `crypto.getRandomValues`, in five dash-separated groups: `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`.
 */
export const LICENSE_KEY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
const GROUPS = 5
const GROUP_LENGTH = 5

export function generateLicenseKey(): string {
  const random = crypto.getRandomValues(new Uint8Array(GROUPS * GROUP_LENGTH))
  const symbols = Array.from(random, (byte) => LICENSE_KEY_ALPHABET[byte & 31])
  const groups: string[] = []
  for (let g = 0; g < GROUPS; g++) groups.push(symbols.slice(g * GROUP_LENGTH, (g + 1) * GROUP_LENGTH).join(''))
  return groups.join('-')
}

/** Bits of randomness in a generated key (a test guards the contract's minimum of 120). */
export const LICENSE_KEY_BITS = GROUPS * GROUP_LENGTH * Math.log2(LICENSE_KEY_ALPHABET.length)

/**
 * Keys a vendor imports: 4 to 128 printable ASCII characters without spaces. ASCII only, because
 * keys are compared case-insensitively (SQLite's NOCASE folds ASCII letters).
 */
export const IMPORTED_LICENSE_KEY = /^[\x21-\x7e]{4,128}$/
