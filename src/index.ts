import { createApp } from './app'

export { ReplayShard } from './replay/shard'

export default createApp()
