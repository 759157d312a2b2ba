// DefinitionStore with MongoDB: collections named after MONGODB_COLLECTION, shared by every collector on the
// database. Only what FerretDB has: no change streams, no transactions; unique indexes and 11000 do work.
//
//   <coll>_searches       {_id: id, name (unique), query, created_at, updated_at}
//   <coll>_alerts         {_id: id, name (unique), …AlertDefinition}
//   <coll>_alert_state    {_id: alert id, …CountState}
//   <coll>_alert_history  {_id: notification id, alert_id, …} (no channels), at most HISTORY_PER_ALERT per alert
//   <coll>_alert_meta     {_id: 'definitions', version}: $inc'd on every change
//
//   change ─► write ─► $inc version ─► onChange listeners (here)
//   poll (findOne of the version, every POLL_MS) ─► another collector changed it ─► onChange listeners (there)
//
// An update replaces the document it read only if it is still as read (updated_at and revision): two
// collectors updating one alert at once cannot lose one update's revision bump.
import { MongoClient, MongoServerError, type Collection, type Db, type Filter, type OptionalUnlessRequiredId } from 'mongodb'
import type { AlertDefinition, AlertInput, CountState, Delivery, DefinitionStore, Notification, SavedSearch, SearchInput } from './model'
import { NameTakenError } from './model'
import { HISTORY_PER_ALERT, historyEntry, newAlert, newSearch, updatedAlert, updatedSearch } from './revision'

const POLL_MS = 1000
const DUPLICATE_KEY = 11000
const META_ID = 'definitions'

type Stored<T extends { id: string }> = Omit<T, 'id'> & { _id: string }
type HistoryDoc = Stored<Omit<Notification, 'channels'>>

function toStored<T extends { id: string }> (v: T): Stored<T> {
  const { id, ...rest } = v
  return { _id: id, ...rest }
}

function fromStored<T extends { id: string }> (d: Stored<T> | null): T | undefined {
  if (d === null) return undefined
  const { _id, ...rest } = d
  return { id: _id, ...rest } as unknown as T
}

/**
 * A unique index refused the write. FerretDB (1.24, SQLite) answers 11000 for an insert but code 1 with
 * SQLite's "UNIQUE constraint failed" for an update or replace.
 */
function isDuplicate (err: unknown): boolean {
  return err instanceof MongoServerError &&
    (err.code === DUPLICATE_KEY || (err.code === 1 && err.message.includes('UNIQUE constraint failed')))
}

export interface MongoStoreOptions {
  now?: () => Date
  pollMs?: number
  /** Closed by close(): a client the store opened itself. */
  client?: MongoClient
}

export class MongoDefinitionStore implements DefinitionStore {
  private readonly searches: Collection<Stored<SavedSearch>>
  private readonly alerts: Collection<Stored<AlertDefinition>>
  private readonly states: Collection<Omit<CountState, 'alert_id'> & { _id: string }>
  private readonly notes: Collection<HistoryDoc>
  private readonly meta: Collection<{ _id: string, version: number }>
  private readonly listeners: Array<() => void> = []
  private readonly now: () => Date
  private readonly pollMs: number
  private indexes: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private version: number | undefined
  private polling = false
  private connecting: Promise<unknown> | undefined

  constructor (readonly db: Db, collection: string, private readonly opts: MongoStoreOptions = {}) {
    this.searches = db.collection(`${collection}_searches`)
    this.alerts = db.collection(`${collection}_alerts`)
    this.states = db.collection(`${collection}_alert_state`)
    this.notes = db.collection(`${collection}_alert_history`)
    this.meta = db.collection(`${collection}_alert_meta`)
    this.now = opts.now ?? (() => new Date())
    this.pollMs = opts.pollMs ?? POLL_MS
  }

  /** A store with its own client (closed by close()); the driver connects on first use, the poll after a failed one. */
  static open (uri: string, dbName: string, collection: string, opts: Omit<MongoStoreOptions, 'client'> = {}): MongoDefinitionStore {
    const uriSetsTimeout = /[?&]serverSelectionTimeoutMS=/i.test(uri)
    const client = new MongoClient(uri, { appName: 'maap-collector-alerts', ...(uriSetsTimeout ? {} : { serverSelectionTimeoutMS: 5000 }) })
    return new MongoDefinitionStore(client.db(dbName), collection, { ...opts, client })
  }

  /** The unique names, once (tried again on the next write after a failure). */
  private async ensureIndexes (): Promise<void> {
    this.indexes ??= Promise.all([
      this.searches.createIndex({ name: 1 }, { unique: true, name: 'name_unique' }),
      this.alerts.createIndex({ name: 1 }, { unique: true, name: 'name_unique' }),
      this.notes.createIndex({ alert_id: 1, created_at: -1 }, { name: 'alert_newest' })
    ]).then(() => {}, (err: unknown) => {
      this.indexes = undefined
      throw err
    })
    await this.indexes
  }

  private async changed (): Promise<void> {
    const after = await this.meta.findOneAndUpdate({ _id: META_ID }, { $inc: { version: 1 } }, { upsert: true, returnDocument: 'after' })
    // The listeners here are told now; the poll need not tell them again (a reload also sees any other change).
    if (after !== null) this.version = after.version
    for (const l of this.listeners) l()
  }

  async listSearches (): Promise<SavedSearch[]> {
    return await this.list(this.searches)
  }

  async getSearch (id: string): Promise<SavedSearch | undefined> {
    return await this.get(this.searches, id)
  }

  async createSearch (input: SearchInput): Promise<SavedSearch> {
    return await this.insert(this.searches, newSearch(input, this.now()))
  }

  async updateSearch (id: string, input: SearchInput): Promise<SavedSearch | undefined> {
    await this.ensureIndexes()
    const previous = await this.getSearch(id)
    if (previous === undefined) return undefined
    const next = updatedSearch(previous, input, this.now())
    try {
      const r = await this.searches.replaceOne({ _id: id }, toStored(next))
      if (r.matchedCount === 0) return undefined
    } catch (err) {
      if (isDuplicate(err)) throw new NameTakenError(input.name)
      throw err
    }
    await this.changed()
    return next
  }

  async deleteSearch (id: string): Promise<boolean> {
    return await this.remove(this.searches, id)
  }

  async listAlerts (): Promise<AlertDefinition[]> {
    return await this.list(this.alerts)
  }

  async getAlert (id: string): Promise<AlertDefinition | undefined> {
    return await this.get(this.alerts, id)
  }

  async createAlert (input: AlertInput): Promise<AlertDefinition> {
    return await this.insert(this.alerts, newAlert(input, this.now()))
  }

  async updateAlert (id: string, input: AlertInput): Promise<AlertDefinition | undefined> {
    await this.ensureIndexes()
    for (;;) {
      const previous = await this.getAlert(id)
      if (previous === undefined) return undefined
      const next = updatedAlert(previous, input, this.now())
      try {
        // Replaced only if no one else changed it since it was read; else read again and redo.
        const r = await this.alerts.replaceOne({ _id: id, updated_at: previous.updated_at, revision: previous.revision }, toStored(next))
        if (r.matchedCount === 0) continue
      } catch (err) {
        if (isDuplicate(err)) throw new NameTakenError(input.name)
        throw err
      }
      await this.changed()
      return next
    }
  }

  /** Its count state goes with it; its history stays until the alert's id is seen no more (nothing reads it then). */
  async deleteAlert (id: string): Promise<boolean> {
    if (!await this.remove(this.alerts, id)) return false
    await this.states.deleteOne({ _id: id })
    return true
  }

  // Searches and alerts are kept alike: oldest first, by id, a unique name.
  private async list<T extends { id: string }> (coll: Collection<Stored<T>>): Promise<T[]> {
    const docs = await coll.find().sort({ created_at: 1, _id: 1 }).toArray()
    return docs.map(d => fromStored<T>(d as Stored<T>)!)
  }

  private async get<T extends { id: string }> (coll: Collection<Stored<T>>, id: string): Promise<T | undefined> {
    return fromStored<T>(await coll.findOne({ _id: id } as Filter<Stored<T>>) as Stored<T> | null)
  }

  private async insert<T extends { id: string, name: string }> (coll: Collection<Stored<T>>, v: T): Promise<T> {
    await this.ensureIndexes()
    try {
      await coll.insertOne(toStored(v) as OptionalUnlessRequiredId<Stored<T>>)
    } catch (err) {
      if (isDuplicate(err)) throw new NameTakenError(v.name)
      throw err
    }
    await this.changed()
    return v
  }

  private async remove<T extends { id: string }> (coll: Collection<Stored<T>>, id: string): Promise<boolean> {
    const r = await coll.deleteOne({ _id: id } as Filter<Stored<T>>)
    if (r.deletedCount === 0) return false
    await this.changed()
    return true
  }

  async countState (alertId: string): Promise<CountState | undefined> {
    const d = await this.states.findOne({ _id: alertId })
    if (d === null) return undefined
    const { _id, ...rest } = d
    return { alert_id: _id, ...rest }
  }

  async setCountState (state: CountState): Promise<void> {
    const { alert_id: id, ...rest } = state
    await this.states.replaceOne({ _id: id }, rest, { upsert: true })
  }

  async recordNotification (n: Notification): Promise<void> {
    await this.ensureIndexes()
    try {
      await this.notes.insertOne(toStored(historyEntry(n)))
    } catch (err) {
      if (isDuplicate(err)) return
      throw err
    }
    await this.trim(n.alert_id)
  }

  /** Keeps the newest HISTORY_PER_ALERT of an alert's notifications; removes the rest a chunk at a time (FerretDB limits a delete's size). */
  private async trim (alertId: string): Promise<void> {
    for (;;) {
      const old = await this.notes.find({ alert_id: alertId }, { projection: { _id: 1 } })
        .sort({ created_at: -1, _id: -1 }).skip(HISTORY_PER_ALERT).limit(500).toArray()
      if (old.length === 0) return
      await this.notes.deleteMany({ _id: { $in: old.map(d => d._id) } })
    }
  }

  async recordDeliveries (id: string, deliveries: Delivery[]): Promise<void> {
    await this.notes.updateOne({ _id: id }, { $set: { deliveries } })
  }

  async history (alertId: string, limit: number): Promise<Array<Omit<Notification, 'channels'>>> {
    const docs = await this.notes.find({ alert_id: alertId }).sort({ created_at: -1, _id: -1 }).limit(limit).toArray()
    return docs.map(d => fromStored<Omit<Notification, 'channels'>>(d as HistoryDoc)!)
  }

  onChange (listener: () => void): void {
    this.listeners.push(listener)
    if (this.timer !== undefined) return
    this.timer = setInterval(() => { void this.poll() }, this.pollMs).unref()
    void this.poll()
  }

  /**
   * Connects the store's own client, again after a failed attempt: the driver closes its topology when the
   * first connect fails (MongoDB down when the collector started), and every operation then fails with
   * "Topology is closed" until connect() is called again; once connected, it reconnects by itself.
   */
  private async connected (): Promise<void> {
    const client = this.opts.client
    if (client === undefined) return
    this.connecting ??= client.connect().catch((err: unknown) => {
      this.connecting = undefined
      throw err
    })
    await this.connecting
  }

  /**
   * One findOne a second: the version another collector's change bumped. Errors (MongoDB down) wait for the
   * next poll, which also connects a client whose first connect failed (the definitions' reload, the
   * history and the count lease all use it).
   */
  private async poll (): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      await this.connected()
      const v = (await this.meta.findOne({ _id: META_ID }))?.version ?? 0
      if (this.version !== undefined && v !== this.version) for (const l of this.listeners) l()
      this.version = v
    } catch {
      // MongoDB unreachable: the definitions cannot have changed as far as this collector can know.
    } finally {
      this.polling = false
    }
  }

  async close (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.opts.client?.close()
  }
}
