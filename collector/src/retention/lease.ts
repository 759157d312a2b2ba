// A lease in MongoDB: at most one owner at a time for a named job (the retention sweeper), across workers
// and hosts that share nothing but MongoDB. It works on mongod and on FerretDB, with no transactions.
//
// Why one document per term instead of one document updated in place: FerretDB runs findAndModify and
// update as "read, then write by _id", so when a lease has expired, every process that asks at the same time
// takes it over (on FerretDB 1.24, a filtered findOneAndUpdate upsert raced by 8 contenders was usually won
// by several of them at once). The one write both servers make atomic is an insert against the unique _id
// index. So a holding is its own document, and taking the lease means inserting the next term:
//
//   maap_locks: { _id: 'retention:event_logs.logs#7', lease: 'retention:event_logs.logs', term: 7, owner, expiresAt }
//
//   acquire ─► latest term held by someone else and not expired ─► false (holder recorded)
//           ├► latest term is ours and still valid ─► renew: $set expiresAt on our own term document
//           └► otherwise ─► insert term+1 ─► duplicate key 11000: someone else took it ─► false
//
// Only the owner of a term ever writes its document, so the servers' read-then-write updates are safe there.
// The owner trusts its term only until expiresAt minus a margin (clock skew between hosts), and renews before.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { MongoServerError, type Collection } from 'mongodb'

export const LEASE_COLLECTION = 'maap_locks'
const DUPLICATE_KEY = 11000

export interface LeaseDocument {
  _id: string
  lease: string
  term: number
  owner: string
  expiresAt: Date
  acquiredAt: Date
}

export interface LeaseOptions {
  /** How long a holding lasts without renewal, > 0 (the scheduler derives it from the validated sweep interval). */
  ttlMs: number
  /** Unique per process; by default host:pid:random. */
  owner?: string
  /** The clock (tests move it forward instead of waiting). */
  now?: () => number
}

export function defaultOwner (): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}

export class Lease {
  readonly owner: string
  private readonly ttlMs: number
  private readonly now: () => number
  private term: number | undefined
  private validUntil = 0
  /** Owner of the latest term seen, when someone else holds the lease. */
  holder: string | undefined

  constructor (private readonly coll: Collection<LeaseDocument>, readonly name: string, opts: LeaseOptions) {
    this.ttlMs = opts.ttlMs
    this.owner = opts.owner ?? defaultOwner()
    this.now = opts.now ?? Date.now
  }

  /** Whether this process holds the lease, by its own clock (renew before it runs out). */
  get held (): boolean {
    return this.term !== undefined && this.now() < this.validUntil
  }

  private id (term: number): string {
    return `${this.name}#${term}`
  }

  /** Another host's clock may run ahead by up to this much: stop trusting a term that long before it expires. */
  private get margin (): number {
    return Math.floor(this.ttlMs / 4)
  }

  /** Takes the lease or renews it; resolves true when this process holds it for about ttlMs from now. */
  async acquire (): Promise<boolean> {
    if (this.held && await this.renew()) return true
    this.term = undefined
    const now = this.now()
    const latest = await this.coll.findOne({ lease: this.name }, { sort: { term: -1 } })
    if (latest !== null && latest.owner !== this.owner && latest.expiresAt.getTime() > now) {
      this.holder = latest.owner
      return false
    }
    const term = (latest?.term ?? 0) + 1
    try {
      await this.coll.insertOne({
        _id: this.id(term), lease: this.name, term, owner: this.owner, expiresAt: new Date(now + this.ttlMs), acquiredAt: new Date(now)
      })
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) {
        this.holder = (await this.coll.findOne({ _id: this.id(term) }))?.owner
        return false
      }
      throw err
    }
    // Having read a stale latest term (a pause longer than a whole term) could mean inserting a term that is
    // already behind: give it back.
    const newer = await this.coll.findOne({ lease: this.name, term: { $gt: term } })
    if (newer !== null) {
      await this.coll.deleteOne({ _id: this.id(term), owner: this.owner })
      this.holder = newer.owner
      return false
    }
    this.term = term
    this.validUntil = now + this.ttlMs - this.margin
    this.holder = undefined
    // Terms before the previous one are history; a failure here costs nothing but a few small documents.
    await this.coll.deleteMany({ lease: this.name, term: { $lt: term - 1 } }).catch(() => {})
    return true
  }

  private async renew (): Promise<boolean> {
    const now = this.now()
    const res = await this.coll.updateOne({ _id: this.id(this.term!), owner: this.owner }, { $set: { expiresAt: new Date(now + this.ttlMs) } })
    if (res.matchedCount !== 1) return false
    if (await this.coll.findOne({ lease: this.name, term: { $gt: this.term! } }) !== null) return false
    this.validUntil = now + this.ttlMs - this.margin
    return true
  }

  /** Gives the lease up (others may take it at once); a no-op when not held. */
  async release (): Promise<void> {
    const term = this.term
    const held = this.held
    this.term = undefined
    if (term === undefined || !held) return
    await this.coll.updateOne({ _id: this.id(term), owner: this.owner }, { $set: { expiresAt: new Date(0) } })
  }
}
