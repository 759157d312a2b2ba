// The histogram: GET /logs/histogram's columns drawn by uPlot as bars stacked by level. uPlot does not
// stack by itself, so each level's series is the running sum of the levels below it, drawn tallest first
// so the shorter sums paint over it. Dragging across the plot picks a range (onZoom).
import uPlot from 'uplot'
import type { Histogram } from './api'
import { el } from './dom'
import { LEVELS, LEVEL_LABEL } from './levels'

// Bottom to top: the rare, important levels sit on the axis where they are easiest to see.
const STACK = ['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'DEBUG', 'TRACE'] as const

function cssVar (name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}

export class HistogramView {
  private plot: uPlot | null = null
  private readonly observer: ResizeObserver

  constructor (private readonly host: HTMLElement, private readonly legend: HTMLElement,
    private readonly onZoom: (fromMs: number, toMs: number) => void) {
    this.observer = new ResizeObserver(() => {
      if (this.plot !== null) this.plot.setSize({ width: this.width(), height: this.plot.height })
    })
    this.observer.observe(host)
    // Colours come from CSS variables: redraw when the system switches light/dark.
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => { if (this.last !== null) this.draw(this.last) })
  }

  private last: Histogram | null = null

  private width (): number {
    return Math.max(200, this.host.clientWidth)
  }

  draw (h: Histogram): void {
    this.last = h
    const x = h.times.map(t => t / 1000)
    const sums: number[][] = []
    let running = x.map(() => 0)
    for (const level of STACK) {
      const counts = h.levels[level] ?? []
      running = running.map((v, i) => v + (counts[i] ?? 0))
      sums.push(running)
    }
    const order = STACK.map((_, i) => STACK.length - 1 - i) // tallest sum first
    const data: uPlot.AlignedData = [x, ...order.map(i => sums[i]!)]
    // A bucket counts [t, t + interval): its bar starts at t (uPlot centres bars on x by default).
    const bars = uPlot.paths.bars!({ size: [0.86, 60], gap: 1, align: 1 })
    const grid = cssVar('--grid')
    const axis = cssVar('--muted')
    const opts: uPlot.Options = {
      width: this.width(),
      height: 120,
      legend: { show: false },
      // Left: room for the date under the first tick, which uPlot centres on it.
      padding: [6, 22, 0, 8],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: true, range: xRange(h) }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] } },
      axes: [
        { stroke: axis, grid: { show: false }, ticks: { stroke: grid, size: 4 }, font: '11px system-ui, sans-serif' },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 44, font: '11px system-ui, sans-serif', values: (_u, vals) => vals.map(compact) }
      ],
      series: [
        {},
        ...order.map(i => {
          const level = STACK[i]!
          const colour = cssVar(`--${level.toLowerCase()}`)
          return { label: level, stroke: colour, fill: colour, width: 0, paths: bars, points: { show: false } }
        })
      ],
      hooks: {
        setSelect: [u => {
          if (u.select.width < 3) return
          const from = u.posToVal(u.select.left, 'x') * 1000
          const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
          this.onZoom(Math.floor(from), Math.ceil(to))
        }],
        draw: [() => { document.body.dataset.histogram = 'drawn' }]
      }
    }
    this.plot?.destroy()
    this.host.replaceChildren()
    this.plot = new uPlot(opts, data, this.host)
    this.drawLegend(h)
  }

  private drawLegend (h: Histogram): void {
    const items: HTMLElement[] = []
    for (const level of [...LEVELS].reverse()) {
      const n = (h.levels[level] ?? []).reduce((a, b) => a + b, 0)
      if (n === 0) continue
      const item = el('span', `key lv-${level.toLowerCase()}`)
      item.append(el('i'), el('span', '', `${LEVEL_LABEL[level]} ${n.toLocaleString()}`))
      items.push(item)
    }
    this.legend.replaceChildren(...items)
  }

  /** Whether a histogram is on screen. */
  get drawn (): boolean { return this.plot !== null }

  clear (message: string): void {
    this.plot?.destroy()
    this.plot = null
    this.last = null
    this.host.replaceChildren(el('div', 'chart-msg', message))
    this.legend.replaceChildren()
  }
}

/** The range asked for, widened to the buckets' edges (round widths start before it): no bar is drawn off the plot. */
function xRange (h: Histogram): [number, number] {
  const from = Date.parse(h.from)
  const to = Date.parse(h.to)
  const first = h.times[0]
  const last = h.times[h.times.length - 1]
  return [Math.min(from, first ?? from) / 1000, Math.max(to, last === undefined ? to : last + h.interval_ms) / 1000]
}

function compact (n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n)
}
