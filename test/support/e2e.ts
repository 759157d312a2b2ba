// Shared by the pino and winston end-to-end tests: a collector writing to a fresh MongoDB database, and
// a winston logger.end() that resolves at the logger's 'finish'.
import { once } from 'node:events'
import type { Logger } from 'winston'
import { startCollector } from './collector'
import { connectTestClient, testMongoUri, uniqueDbName } from './mongo'

export async function setupMongoCollector (t: Tap.Test, name: string, extraEnv: Record<string, string> = {}) {
  const client = await connectTestClient(t)
  const dbName = uniqueDbName(name)
  t.teardown(() => client.db(dbName).dropDatabase())
  const env = { MONGODB_URI: testMongoUri(), MONGODB_DB_NAME: dbName, MONGODB_COLLECTION: 'logs', FLUSH_INTERVAL: '0.2', LOG_BUFFER_SIZE: '5000', ...extraEnv }
  const collector = await startCollector(t, { env })
  return { client, collector, coll: client.db(dbName).collection('logs'), env }
}

export async function ended (logger: Logger): Promise<void> {
  const finished = once(logger, 'finish')
  logger.end()
  await finished
}
