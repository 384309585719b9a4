// `npm run call -- METHOD PATH [JSON]`: one signed (v2) request to the local API.
// Credentials: KEYSTACK_KEY_ID and KEYSTACK_SECRET, else the operator key from .dev.vars.
// KEYSTACK_URL sets the server (default http://127.0.0.1:8787).
import { createHmac, randomBytes } from 'node:crypto'
import { readDevVars } from './dev-vars.mjs'

const [method = 'GET', path = '/health', body = ''] = process.argv.slice(2)
const base = process.env.KEYSTACK_URL || 'http://127.0.0.1:8787'
let keyId = process.env.KEYSTACK_KEY_ID
let secret = process.env.KEYSTACK_SECRET
if (!keyId || !secret) {
  const vars = readDevVars()
  keyId = vars.KEYSTACK_OPERATOR_KEY_ID
  secret = vars.KEYSTACK_OPERATOR_SECRET
}

const url = new URL(path, base)
const ts = String(Math.floor(Date.now() / 1000))
const nonce = randomBytes(16).toString('base64url')
const upper = method.toUpperCase()
const signature = createHmac('sha256', secret)
  .update(`v2\n${ts}\n${nonce}\n${upper}\n${url.pathname}${url.search}\n${keyId}\n`)
  .update(body)
  .digest('hex')

const res = await fetch(url, {
  method: upper,
  headers: {
    'X-KeyStack-Key': keyId,
    'X-KeyStack-Timestamp': ts,
    'X-KeyStack-Nonce': nonce,
    'X-KeyStack-Signature': `v2=${signature}`,
    ...(body ? { 'Content-Type': 'application/json' } : {}),
  },
  body: body || undefined,
})
const text = await res.text()
console.log(`${res.status} ${res.statusText}`)
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2))
} catch {
  console.log(text)
}
process.exit(res.ok ? 0 : 1)
