import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

/** The parts of an OpenAPI 3.1 document the page reads. */
interface OpenApiDoc {
  info: { title: string; version: string; description?: string }
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, unknown> }
}
interface Operation {
  summary?: string
  security?: Record<string, string[]>[]
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown; description?: string }[]
  requestBody?: { content: Record<string, { schema: unknown }> }
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2.2rem;border-top:1px solid #ddd;padding-top:1rem}
code,pre{font:13px/1.4 ui-monospace,monospace;background:#f4f4f4;border-radius:4px}code{padding:.1rem .3rem}
pre{padding:.7rem;overflow-x:auto}.m{display:inline-block;min-width:4.2rem;font-weight:700}
.scope{font-size:.85rem;color:#555}table{border-collapse:collapse}td,th{text-align:left;padding:.2rem .8rem .2rem 0;vertical-align:top}
nav a{display:block}`

const ref = (schema: unknown) => {
  const r = (schema as { $ref?: string })?.$ref
  return r ? r.split('/').pop()! : null
}
const schemaText = (schema: unknown) => ref(schema) ?? JSON.stringify(schema)

function operationHtml(path: string, method: string, op: Operation): HtmlEscapedString | Promise<HtmlEscapedString> {
  const scopes = op.security?.flatMap((s) => Object.values(s).flat()) ?? []
  const body = op.requestBody?.content['application/json']?.schema
  const id = `${method}-${path}`.replace(/[^a-z0-9]+/gi, '-')
  return html`<h2 id="${id}"><span class="m">${method.toUpperCase()}</span> <code>${path}</code></h2>
<p>${op.summary ?? ''}</p>
<p class="scope">${scopes.length ? `Signed; key scopes: ${scopes.join(', ')}` : 'No signature needed.'}</p>
${op.parameters?.length ? html`<table><tr><th>parameter</th><th>in</th><th>schema</th></tr>${op.parameters.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td><code>${schemaText(p.schema)}</code></td></tr>`)}</table>` : ''}
${body ? html`<p>Body: <a href="#schema-${ref(body) ?? ''}"><code>${schemaText(body)}</code></a></p>` : ''}
<table><tr><th>status</th><th>meaning</th><th>body</th></tr>${Object.entries(op.responses).map(([status, r]) => {
    const schema = r.content?.['application/json']?.schema
    return html`<tr><td>${status}</td><td>${raw(r.description.replace(/`([^`]+)`/g, (_, c: string) => `<code>${c.replace(/[<>&"]/g, '')}</code>`))}</td><td>${schema ? html`<code>${schemaText(schema)}</code>` : ''}</td></tr>`
  })}</table>`
}

/** A readable, self-contained page (no script, no outside resource) rendered from the OpenAPI document. */
export function docsPage(doc: OpenApiDoc) {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })))
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${doc.info.title} reference</title><style>${raw(STYLE)}</style></head>
<body><h1>${doc.info.title} ${doc.info.version}</h1>
<p>${doc.info.description ?? ''} Machine-readable: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.1).</p>
<p>Every <code>/v1/</code> request is signed: <code>X-KeyStack-Key</code>, <code>X-KeyStack-Timestamp</code> (Unix seconds),
<code>X-KeyStack-Signature</code> (<code>v2=</code>hex of HMAC-SHA256 over <code>v2\n{ts}\n{nonce}\n{METHOD}\n{path?query}\n{keyId}\n</code> + body,
with <code>X-KeyStack-Nonce</code>; or v1: hex of HMAC-SHA256 over <code>{ts}.</code> + body). Errors are
<code>{"error":{"code","message"}}</code>; branch on <code>code</code>.</p>
<nav>${ops.map(({ path, method }) => html`<a href="#${`${method}-${path}`.replace(/[^a-z0-9]+/gi, '-')}">${method.toUpperCase()} ${path}</a>`)}</nav>
${ops.map(({ path, method, op }) => operationHtml(path, method, op))}
<h2>Schemas</h2>
${Object.entries(doc.components?.schemas ?? {}).map(([name, schema]) => html`<h3 id="schema-${name}">${name}</h3><pre>${JSON.stringify(schema, null, 2)}</pre>`)}
</body></html>`
}
