// The offline license file (contract section 5): armour lines around
// `<base64url(payload JSON)>.<base64url(Ed25519 signature of the ASCII of the first part)>`, the body
// wrapped at 64 characters. Dependency-free: the client SDK shares this file.

export const LICENSE_FILE_BEGIN = '-----BEGIN KEYSTACK LICENSE FILE-----'
export const LICENSE_FILE_END = '-----END KEYSTACK LICENSE FILE-----'

export function armourLicenseFile(payloadPart: string, signaturePart: string): string {
  const body = `${payloadPart}.${signaturePart}`
  const lines: string[] = []
  for (let i = 0; i < body.length; i += 64) lines.push(body.slice(i, i + 64))
  return `${LICENSE_FILE_BEGIN}\n${lines.join('\n')}\n${LICENSE_FILE_END}\n`
}

/** The two parts of a file, whitespace removed; null if the armour or the shape is wrong. */
export function unarmourLicenseFile(file: string): { payloadPart: string; signaturePart: string } | null {
  const begin = file.indexOf(LICENSE_FILE_BEGIN)
  const end = file.indexOf(LICENSE_FILE_END)
  if (begin < 0 || end < begin) return null
  const body = file.slice(begin + LICENSE_FILE_BEGIN.length, end).replace(/\s+/g, '')
  const parts = body.split('.')
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null
  return { payloadPart: parts[0], signaturePart: parts[1] }
}
