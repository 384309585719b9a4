-- Accounts (tenants) and their API keys. Times are Unix milliseconds (UTC).
CREATE TABLE accounts (
  id          TEXT PRIMARY KEY,            -- acc_<ULID>
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,          -- key_<ULID>, public
  account_id    TEXT NOT NULL REFERENCES accounts(id),
  scope         TEXT NOT NULL CHECK (scope IN ('admin', 'client')),
  label         TEXT,
  -- AES-256-GCM ciphertext of the secret under a key derived from KEYSTACK_MASTER_KEY,
  -- bound to the key id: useless without the master key.
  secret_sealed TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,                   -- coarse: written at most about once a minute per key
  revoked_at    INTEGER
);

-- Listing an account's keys in creation order, and counting its active admin keys.
CREATE INDEX api_keys_by_account ON api_keys (account_id, created_at);
