// A Prometheus histogram for the request path: a series is looked up once (per route, per status) and an
// observation is a few additions into a Float64Array, where prom-client's Histogram validates and hashes
// its labels on every call, a cost paid on every request. It registers in a prom-client Registry as any
// metric does (name, help, type, get()), so the text format and the cluster sums are prom-client's own.
import type { Registry } from 'prom-client'

export class Series {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor (readonly labels: Readonly<Record<string, string>>, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (seconds: number): void {
    let i = 0
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++
    this.counts[i]!++
    this.sum += seconds
    this.count++
  }
}

interface Sample { labels: Record<string, string | number>, value: number, metricName: string }

export class LightHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly all = new Map<string, Series>()

  constructor (readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0])
  }

  /** The series with these labels (made on first use; keep it, and observe into it). */
  series (labels: Record<string, string> = {}): Series {
    const key = JSON.stringify(labels)
    let s = this.all.get(key)
    if (s === undefined) {
      s = new Series(labels, this.bounds)
      this.all.set(key, s)
    }
    return s
  }

  /** Like prom-client's Histogram#get: cumulative `_bucket`s, then `_sum` and `_count`, per series. */
  get (): { name: string, help: string, type: string, aggregator: string, values: Sample[] } {
    const values: Sample[] = []
    for (const s of this.all.values()) {
      let acc = 0
      for (let i = 0; i <= this.bounds.length; i++) {
        acc += s.counts[i]!
        values.push({ labels: { ...s.labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, value: acc, metricName: `${this.name}_bucket` })
      }
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}
