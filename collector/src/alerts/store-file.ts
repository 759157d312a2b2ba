// DefinitionStore in embedded mode: JSON files under the service's LOG_DIR, shared by every worker process.
//
//   LOG_DIR/definitions/definitions.json   {searches, alerts}
//   LOG_DIR/definitions/count-state.json   {<alert id>: CountState}
//   LOG_DIR/definitions/history/<id>.json  an alert's notifications, newest first (at most HISTORY_PER_ALERT)
//   LOG_DIR/definitions/.lock/             held (mkdir) around every read-modify-write
//
//   change ─► lock ─► read ─► modify ─► write tmp ─► rename ─► unlock ─► onChange listeners (here)
//   poll (stat of definitions.json, every POLL_MS) ─► changed by another process ─► onChange listeners (there)
//
// Renames are atomic, so a reader never sees half a file; the lock makes a name check and the write that
// follows one step across processes. A lock left by a process that died is taken over once it is STALE_MS old.
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AlertDefinition, AlertInput, CountState, Delivery, DefinitionStore, Notification, SavedSearch, SearchInput } from './model'
import { NameTakenError } from './model'
import { HISTORY_PER_ALERT, historyEntry, newAlert, newSearch, updatedAlert, updatedSearch } from './revision'

export const DEFINITIONS_DIR = 'definitions'
const POLL_MS = 500
const STALE_MS = 10_000
const LOCK_RETRY_MS = 10

interface Definitions { searches: SavedSearch[], alerts: AlertDefinition[] }
type History = Array<Omit<Notification, 'channels'>>

export interface FileStoreOptions {
  now?: () => Date
  /** How often other processes' changes are looked for (ms). */
  pollMs?: number
}

async function readJson<T> (file: string, empty: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty
    throw err
  }
}

let tmpCounter = 0
/** Written beside, then renamed over: readers in other processes see the old file or the new one. */
async function writeJson (file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`
  await writeFile(tmp, JSON.stringify(value))
  await rename(tmp, file)
}

export class FileDefinitionStore implements DefinitionStore {
  private readonly dir: string
  private readonly file: string
  private readonly stateFile: string
  private readonly lockDir: string
  private readonly listeners: Array<() => void> = []
  private readonly now: () => Date
  private readonly pollMs: number
  private timer: NodeJS.Timeout | undefined
  private seen: string | undefined
  private polling = false
  /** Serialises this process's own changes, so they do not wait on each other's lock in turns of LOCK_RETRY_MS. */
  private queue: Promise<unknown> = Promise.resolve()
  /** Notification id → alert id, for the notifications recorded here (bounded: the oldest are forgotten). */
  private readonly alertOf = new Map<string, string>()

  /** `logDir`: the service's LOG_DIR (serviceLogDir() of a worker's journal directory). */
  constructor (logDir: string, opts: FileStoreOptions = {}) {
    this.dir = join(logDir, DEFINITIONS_DIR)
    this.file = join(this.dir, 'definitions.json')
    this.stateFile = join(this.dir, 'count-state.json')
    this.lockDir = join(this.dir, '.lock')
    this.now = opts.now ?? (() => new Date())
    this.pollMs = opts.pollMs ?? POLL_MS
  }

  private historyFile (alertId: string): string {
    return join(this.dir, 'history', `${encodeURIComponent(alertId)}.json`)
  }

  private async definitions (): Promise<Definitions> {
    return await readJson<Definitions>(this.file, { searches: [], alerts: [] })
  }

  /** Runs `fn` holding the lock of the directory (this process's calls one at a time). */
  private async locked<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.lock()
      try {
        return await fn()
      } finally {
        await rmdir(this.lockDir).catch(() => {})
      }
    })
    this.queue = run.catch(() => {})
    return await run
  }

  private async lock (): Promise<void> {
    await mkdir(join(this.dir, 'history'), { recursive: true })
    for (;;) {
      try {
        await mkdir(this.lockDir)
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const held = await stat(this.lockDir).catch(() => undefined)
      // A holder that died (SIGKILL) left it: every change takes milliseconds, so one this old is no one's.
      if (held !== undefined && Date.now() - held.mtimeMs > STALE_MS) {
        await rm(this.lockDir, { recursive: true, force: true })
        continue
      }
      await new Promise(resolve => setTimeout(resolve, LOCK_RETRY_MS))
    }
  }

  /** A change to the definitions: under the lock, then the listeners here (other processes see it by polling). */
  private async change<T> (fn: (d: Definitions) => T | undefined): Promise<T | undefined> {
    const result = await this.locked(async () => {
      const d = await this.definitions()
      const r = fn(d)
      if (r !== undefined) {
        await writeJson(this.file, d)
        this.seen = await this.signature()
      }
      return r
    })
    if (result !== undefined) this.emit()
    return result
  }

  async listSearches (): Promise<SavedSearch[]> {
    return (await this.definitions()).searches
  }

  async getSearch (id: string): Promise<SavedSearch | undefined> {
    return (await this.definitions()).searches.find(s => s.id === id)
  }

  async createSearch (input: SearchInput): Promise<SavedSearch> {
    return await this.insert('searches', input.name, () => newSearch(input, this.now()))
  }

  async updateSearch (id: string, input: SearchInput): Promise<SavedSearch | undefined> {
    return await this.replace('searches', id, input.name, previous => updatedSearch(previous, input, this.now()))
  }

  async deleteSearch (id: string): Promise<boolean> {
    return await this.remove('searches', id)
  }

  async listAlerts (): Promise<AlertDefinition[]> {
    return (await this.definitions()).alerts
  }

  async getAlert (id: string): Promise<AlertDefinition | undefined> {
    return (await this.definitions()).alerts.find(a => a.id === id)
  }

  async createAlert (input: AlertInput): Promise<AlertDefinition> {
    return await this.insert('alerts', input.name, () => newAlert(input, this.now()))
  }

  async updateAlert (id: string, input: AlertInput): Promise<AlertDefinition | undefined> {
    return await this.replace('alerts', id, input.name, previous => updatedAlert(previous, input, this.now()))
  }

  // Searches and alerts are kept alike: a list each in definitions.json, by id, a unique name.
  private async insert<K extends keyof Definitions> (kind: K, name: string, make: () => Definitions[K][number]): Promise<Definitions[K][number]> {
    return (await this.change(d => {
      const list = d[kind] as Array<Definitions[K][number]>
      if (list.some(v => v.name === name)) throw new NameTakenError(name)
      const v = make()
      list.push(v)
      return v
    }))!
  }

  private async replace<K extends keyof Definitions> (kind: K, id: string, name: string, next: (previous: Definitions[K][number]) => Definitions[K][number]):
  Promise<Definitions[K][number] | undefined> {
    return await this.change(d => {
      const list = d[kind] as Array<Definitions[K][number]>
      const i = list.findIndex(v => v.id === id)
      if (i === -1) return undefined
      if (list.some(v => v.name === name && v.id !== id)) throw new NameTakenError(name)
      list[i] = next(list[i]!)
      return list[i]
    })
  }

  private async remove (kind: keyof Definitions, id: string): Promise<boolean> {
    return (await this.change(d => {
      const list = d[kind] as Array<{ id: string }>
      const i = list.findIndex(v => v.id === id)
      if (i === -1) return undefined
      list.splice(i, 1)
      return true
    })) ?? false
  }

  /** Its count state goes with it; its history stays (GET /alerts/:id/history of a deleted id answers 404 all the same). */
  async deleteAlert (id: string): Promise<boolean> {
    const deleted = await this.remove('alerts', id)
    if (deleted) {
      await this.locked(async () => {
        const states = await readJson<Record<string, CountState>>(this.stateFile, {})
        if (Object.hasOwn(states, id)) {
          delete states[id]
          await writeJson(this.stateFile, states)
        }
      })
    }
    return deleted
  }

  async countState (alertId: string): Promise<CountState | undefined> {
    const states = await readJson<Record<string, CountState>>(this.stateFile, {})
    return Object.hasOwn(states, alertId) ? states[alertId] : undefined
  }

  async setCountState (state: CountState): Promise<void> {
    await this.locked(async () => {
      const states = await readJson<Record<string, CountState>>(this.stateFile, {})
      states[state.alert_id] = state
      await writeJson(this.stateFile, states)
    })
  }

  async recordNotification (n: Notification): Promise<void> {
    await this.locked(async () => {
      const file = this.historyFile(n.alert_id)
      const history = await readJson<History>(file, [])
      this.remember(n.id, n.alert_id)
      if (history.some(h => h.id === n.id)) return
      history.unshift(historyEntry(n))
      // Newest first by created_at, whatever order notifications were recorded in (several workers).
      history.sort((a, b) => a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0)
      await writeJson(file, history.slice(0, HISTORY_PER_ALERT))
    })
  }

  /**
   * The history file is the notification's alert's: known here for what this process recorded (the outbox
   * that delivers is the one that recorded), else looked for in every alert's history.
   */
  async recordDeliveries (id: string, deliveries: Delivery[]): Promise<void> {
    await this.locked(async () => {
      const known = this.alertOf.get(id)
      for (const alert of known === undefined ? await this.alertIdsWithHistory() : [known]) {
        const file = this.historyFile(alert)
        const history = await readJson<History>(file, [])
        const entry = history.find(h => h.id === id)
        if (entry === undefined) continue
        entry.deliveries = deliveries
        await writeJson(file, history)
        return
      }
    })
  }

  private remember (id: string, alertId: string): void {
    this.alertOf.set(id, alertId)
    if (this.alertOf.size > HISTORY_PER_ALERT * 10) this.alertOf.delete(this.alertOf.keys().next().value!)
  }

  private async alertIdsWithHistory (): Promise<string[]> {
    const names = await readdir(join(this.dir, 'history')).catch(() => [] as string[])
    return names.filter(n => n.endsWith('.json')).map(n => decodeURIComponent(n.slice(0, -'.json'.length)))
  }

  async history (alertId: string, limit: number): Promise<History> {
    return (await readJson<History>(this.historyFile(alertId), [])).slice(0, limit)
  }

  onChange (listener: () => void): void {
    this.listeners.push(listener)
    if (this.timer !== undefined) return
    void this.signature().then(s => { this.seen ??= s })
    this.timer = setInterval(() => { void this.poll() }, this.pollMs).unref()
  }

  private emit (): void {
    for (const l of this.listeners) l()
  }

  /** What changes when the file is replaced: its inode (a rename), size and time. */
  private async signature (): Promise<string> {
    const s = await stat(this.file).catch(() => undefined)
    return s === undefined ? 'none' : `${s.ino}:${s.size}:${s.mtimeMs}`
  }

  private async poll (): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      const s = await this.signature()
      if (this.seen !== undefined && s !== this.seen) {
        this.seen = s
        this.emit()
      }
      this.seen ??= s
    } finally {
      this.polling = false
    }
  }

  async close (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.queue
  }
}
