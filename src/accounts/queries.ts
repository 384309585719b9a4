import { newAccountId } from '../ids'
import { insertKeyStatement, prepareKey, type NewKey } from '../keys/queries'

export interface AccountRow {
  id: string
  name: string
  created_at: number
}

/** Creates an account and its first admin key in one D1 batch (one transaction: both or neither). */
export async function createAccount(env: Env, name: string, nowMs: number): Promise<{ account: AccountRow; key: NewKey }> {
  const account: AccountRow = { id: newAccountId(nowMs), name, created_at: nowMs }
  const { key, sealed } = await prepareKey(env.KEYSTACK_MASTER_KEY, account.id, 'admin', 'first admin key', nowMs)
  await env.DB.batch([
    env.DB.prepare('INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)').bind(account.id, account.name, account.created_at),
    insertKeyStatement(env.DB, key.row, sealed),
  ])
  return { account, key }
}
