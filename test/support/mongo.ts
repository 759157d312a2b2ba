import { MongoClient } from 'mongodb'
import { randomBytes } from 'node:crypto'

/** URI of the MongoDB wire-protocol server that `npm test` provisioned (test/run.mjs). */
export function testMongoUri (): string {
  const uri = process.env.TEST_MONGODB_URI
  if (!uri) throw new Error('TEST_MONGODB_URI is not set: run the tests with `npm test` (test/run.mjs)')
  return uri
}

/** A database name of its own for each test, so test files can run in parallel on one server. */
export function uniqueDbName (prefix = 't'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** A connected client that the test closes in teardown. */
export async function connectTestClient (t: { teardown: (fn: () => unknown) => void }): Promise<MongoClient> {
  const client = new MongoClient(testMongoUri(), { serverSelectionTimeoutMS: 10_000 })
  await client.connect()
  t.teardown(() => client.close())
  return client
}
