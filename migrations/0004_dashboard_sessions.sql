-- Dashboard users (people at a vendor) and their sessions. Times are Unix milliseconds (UTC).
CREATE TABLE users (
  id             TEXT PRIMARY KEY,                 -- usr_<ULID>
  account_id     TEXT NOT NULL REFERENCES accounts(id),
  email          TEXT NOT NULL COLLATE NOCASE,
  password_hash  TEXT NOT NULL,                    -- pbkdf2-sha256$iterations$salt$hash
  created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_by_email ON users (email);

-- Refresh tokens, stored only as SHA-256 hashes. A family is one log-in; every use rotates the
-- token (rotated_at set, a new row in the same family); using a rotated token again revokes the
-- whole family (a stolen copy).
CREATE TABLE refresh_tokens (
  token_hash   TEXT PRIMARY KEY,
  family_id    TEXT NOT NULL,
  user_id      TEXT NOT NULL REFERENCES users(id),
  account_id   TEXT NOT NULL REFERENCES accounts(id),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  rotated_at   INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

-- "Log everyone out" is this one write: sessions begun (refresh tokens made, access tokens issued)
-- at or before it are dead.
ALTER TABLE accounts ADD COLUMN sessions_revoked_at INTEGER;

-- Activity per account and UTC day, for the dashboard chart. Validations are counted in each
-- isolate and added here at most once a minute (no D1 write per validate).
CREATE TABLE activity_daily (
  account_id   TEXT NOT NULL REFERENCES accounts(id),
  day          TEXT NOT NULL,                    -- YYYY-MM-DD (UTC)
  validations  INTEGER NOT NULL DEFAULT 0,
  activations  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day)
);
