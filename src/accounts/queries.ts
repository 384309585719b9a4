import { newAccountId } from '../ids'
import { insertKeyStatement, prepareKey, type NewKey } from '../keys/queries'
import { generateSigningKey } from './signing-key'

export interface AccountRow {
  id: string
  name: string
  created_at: number
}

export interface AccountWithPublicKey extends AccountRow {
  public_key: string
}

/**
 * Creates an account, its Ed25519 key pair and its first admin key in one D1 batch (one
 * transaction); `alongside` adds statements to the same transaction (the dashboard's owner).
 */
export async function createAccount(
  env: Env,
  name: string,
  nowMs: number,
  alongside: (accountId: string) => D1PreparedStatement[] = () => [],
): Promise<{ account: AccountWithPublicKey; key: NewKey }> {
  const id = newAccountId(nowMs)
  const signing = await generateSigningKey(env.KEYSTACK_MASTER_KEY, id)
  const account: AccountWithPublicKey = { id, name, created_at: nowMs, public_key: signing.publicKey }
  const { key, sealed } = await prepareKey(env.KEYSTACK_MASTER_KEY, account.id, 'admin', 'first admin key', nowMs)
  await env.DB.batch([
    env.DB.prepare('INSERT INTO accounts (id, name, created_at, signing_public_key, signing_private_sealed) VALUES (?, ?, ?, ?, ?)').bind(
      account.id, account.name, account.created_at, signing.publicKey, signing.sealedPrivateKey,
    ),
    insertKeyStatement(env.DB, key.row, sealed),
    ...alongside(account.id),
  ])
  return { account, key }
}

export function getAccount(db: D1Database, accountId: string): Promise<AccountRow | null> {
  return db.prepare('SELECT id, name, created_at FROM accounts WHERE id = ?1').bind(accountId).first<AccountRow>()
}
