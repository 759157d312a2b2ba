// The metrics of a WORKER_COUNT > 1 service: the cluster primary sums its workers' registries.
import { AggregatorRegistry } from 'prom-client'
import type { WorkerReply } from '../cluster/ipc'
import type { CollectorMetrics } from './metrics'

/** What the primary answers to a "metrics" question: every worker's registry, summed by prom-client. */
export async function aggregateMetrics (replies: WorkerReply[]): Promise<string> {
  const answered = replies.flatMap(r => r.ok ? [r.value as Awaited<ReturnType<CollectorMetrics['registry']['getMetricsAsJSON']>>] : [])
  // A worker that did not answer is missing from the sums: say how many did, so a scrape can tell.
  const reporting = [{ name: 'maap_cluster_workers_reporting', help: 'Workers whose metrics are in this scrape', type: 'gauge', aggregator: 'sum', values: [{ value: answered.length, labels: {} }] }]
  return await AggregatorRegistry.aggregate([...answered, reporting] as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics()
}
