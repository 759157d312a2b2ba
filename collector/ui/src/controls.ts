// The query controls — search box, app picker, level chips, range presets, absolute from/to, field
// filter chips — drawn from a Query and reporting changes as a new Query (main.ts puts it in the URL).
import { byId, el } from './dom'
import { fromLocalInput, toLocalInput } from './format'
import { LEVELS, LEVEL_LABEL } from './levels'
import { DEFAULT_FROM, PRESETS, type Query } from './query'

export class Controls {
  private query: Query
  readonly q = byId<HTMLInputElement>('q')
  private readonly app = byId<HTMLSelectElement>('app')
  private readonly levels = byId('levels')
  private readonly ranges = byId('ranges')
  private readonly from = byId<HTMLInputElement>('from')
  private readonly to = byId<HTMLInputElement>('to')
  private readonly filters = byId('filters')

  constructor (initial: Query, private readonly onChange: (q: Query) => void) {
    this.query = initial
    for (const level of LEVELS) {
      const b = el('button', `chip lv-${level.toLowerCase()}`, LEVEL_LABEL[level])
      b.type = 'button'
      b.dataset.level = level
      b.title = `${level} and above`
      this.levels.append(b)
    }
    for (const preset of PRESETS) {
      const b = el('button', 'chip', preset)
      b.type = 'button'
      b.dataset.range = preset
      b.title = `The last ${preset}`
      this.ranges.append(b)
    }
    this.levels.addEventListener('click', e => {
      const level = (e.target as HTMLElement).closest<HTMLElement>('[data-level]')?.dataset.level
      if (level !== undefined) this.change({ level: this.query.level === level ? '' : level })
    })
    this.ranges.addEventListener('click', e => {
      const range = (e.target as HTMLElement).closest<HTMLElement>('[data-range]')?.dataset.range
      if (range !== undefined) this.change({ from: range === DEFAULT_FROM ? '' : range, to: '' })
    })
    byId<HTMLFormElement>('search').addEventListener('submit', e => {
      e.preventDefault()
      this.change({ q: this.q.value.trim() })
    })
    // Clearing the box with its × (a "search" event with an empty value) shows everything again.
    this.q.addEventListener('search', () => { if (this.q.value === '') this.change({ q: '' }) })
    this.app.addEventListener('change', () => this.change({ app_name: this.app.value }))
    this.from.addEventListener('change', () => { const v = fromLocalInput(this.from.value); if (v !== '') this.change({ from: v }) })
    this.to.addEventListener('change', () => this.change({ to: fromLocalInput(this.to.value) }))
    this.filters.addEventListener('click', e => {
      const i = (e.target as HTMLElement).closest<HTMLElement>('[data-index]')?.dataset.index
      if (i !== undefined) this.change({ fields: this.query.fields.filter((_, k) => k !== Number(i)) })
    })
    this.show(initial)
  }

  private change (part: Partial<Query>): void {
    this.onChange({ ...this.query, ...part })
  }

  /** Adds a field filter (clicked in an expanded event); app_name and level use their own parameters. */
  pick (path: string, value: string): void {
    if (path === 'app_name') return this.change({ app_name: value })
    if (path === 'level') return this.change({ level: value })
    if (this.query.fields.some(([k, v]) => k === path && v === value)) return
    this.change({ fields: [...this.query.fields.filter(([k]) => k !== path), [path, value]] })
  }

  show (q: Query): void {
    this.query = q
    if (document.activeElement !== this.q || this.q.value.trim() === q.q) this.q.value = q.q
    this.setApps(null)
    for (const b of this.levels.querySelectorAll<HTMLElement>('[data-level]')) {
      const i = LEVELS.indexOf(b.dataset.level as typeof LEVELS[number])
      const min = LEVELS.indexOf(q.level as typeof LEVELS[number])
      b.classList.toggle('on', q.level === b.dataset.level)
      b.classList.toggle('dim', min > 0 && i < min)
      b.setAttribute('aria-pressed', String(q.level === b.dataset.level))
    }
    const range = q.to === '' ? (q.from === '' ? DEFAULT_FROM : q.from) : ''
    for (const b of this.ranges.querySelectorAll<HTMLElement>('[data-range]')) {
      b.classList.toggle('on', b.dataset.range === range)
      b.setAttribute('aria-pressed', String(b.dataset.range === range))
    }
    const absolute = range === '' || !(PRESETS as readonly string[]).includes(range)
    this.from.value = absolute ? toLocalInput(q.from) : ''
    this.to.value = q.to === '' ? '' : toLocalInput(q.to)
    this.from.parentElement!.classList.toggle('on', absolute)
    this.filters.replaceChildren(...q.fields.map(([k, v], i) => {
      const chip = el('button', 'fchip')
      chip.type = 'button'
      chip.dataset.index = String(i)
      chip.title = 'Remove this filter'
      chip.append(el('span', 'fk', k), ' = ', el('span', 'fv', v), el('span', 'x', '×'))
      return chip
    }))
  }

  /** The app picker's choices: the apps that exist (from /logs/values), plus the one selected. */
  setApps (apps: Array<{ value: unknown, count: number }> | null): void {
    const current = this.query.app_name
    if (apps !== null) {
      const opts = [el('option', '', 'All apps')]
      opts[0]!.value = ''
      for (const a of apps) {
        if (typeof a.value !== 'string') continue
        const o = el('option', '', `${a.value}  (${a.count.toLocaleString()})`)
        o.value = a.value
        opts.push(o)
      }
      this.app.replaceChildren(...opts)
    }
    if (current !== '' && ![...this.app.options].some(o => o.value === current)) {
      const o = el('option', '', current)
      o.value = current
      this.app.append(o)
    }
    this.app.value = current
  }
}
