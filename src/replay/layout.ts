/**
 * Shard layouts of the replay store. A layout `hexN` sends a signature to the shard named by the
 * first N hex digits of its digest (16^N shards); the layout's name is part of the shard name, so
 * two layouts never share a shard by accident.
 */
export type ShardLayout = `hex${1 | 2 | 3 | 4}`

export const DEFAULT_SHARD_LAYOUT: ShardLayout = 'hex2'

export function parseShardLayout(value: string | undefined, fallback: ShardLayout | null): ShardLayout | null {
  if (value === undefined || value.trim() === '') return fallback
  const layout = value.trim()
  if (/^hex[1-4]$/.test(layout)) return layout as ShardLayout
  throw new Error(`invalid replay shard layout ${JSON.stringify(layout)}: expected hex1, hex2, hex3 or hex4`)
}

export function shardName(layout: ShardLayout, signatureHex: string): string {
  const digits = Number(layout.slice(3))
  return `${layout}:${signatureHex.slice(0, digits)}`
}

/** Every shard name of a layout, for benchmarks and operators. */
export function allShardNames(layout: ShardLayout): string[] {
  const digits = Number(layout.slice(3))
  return Array.from({ length: 16 ** digits }, (_, i) => `${layout}:${i.toString(16).padStart(digits, '0')}`)
}
