// What the MongoDB checks share: the configuration, the collector's own sink pointed at doctor's scratch
// collection (so every write goes through the code the collector runs, and none touches its data), the
// real collection (read only), and what earlier checks found out.
import type { Collection, Document } from 'mongodb'
import type { CollectorConfig } from '../config'
import type { MongoSink } from '../sink/mongo-sink'
import type { CheckResult } from './check'
import type { ProbeEvents } from './probe-events'

export interface DoctorContext {
  config: Readonly<CollectorConfig>
  /** The collector's MongoSink, its collection being the scratch one. */
  sink: MongoSink
  /** "host:port,…" from MONGODB_URI, without credentials. */
  hosts: string
  scratch: Collection<Document>
  /** "db.collection" of the scratch collection. */
  scratchNs: string
  /** The collection the collector writes to: listed, never written. */
  real: Collection<Document>
  realNs: string
  probe: ProbeEvents
  /** Set by the replica_set check. */
  replicaSet: boolean
  /** Set by the insert check: the probe events are in the scratch collection. */
  inserted: boolean
}

/** One check over the context; undefined when it had nothing to check (an earlier one failed first). */
export type MongoCheck = (ctx: DoctorContext) => Promise<CheckResult | undefined>
