// Optional secrets, which `wrangler types` cannot list (wrangler.toml lists only required ones).
interface Env {
  /** The dashboard JWT secret before a rotation: accepted for one access-token lifetime (10 minutes). */
  KEYSTACK_JWT_SECRET_PREVIOUS?: string
}
