// The query controls — the search box (the query language, with field-name completion and the
// collector's parse errors shown under it), app picker, level chips, range presets, absolute from/to, and
// chips for the older q / f.<field> parameters of a link — drawn from a Query and reporting changes as a
// new Query (main.ts puts it in the URL).
import type { FieldName } from './api'
import { FieldCompletion } from './complete'
import { byId, el } from './dom'
import { fromLocalInput, toLocalInput } from './format'
import { LEVELS, LEVEL_LABEL } from './levels'
import { DEFAULT_FROM, PRESETS, type Query } from './query'
import { addClause, clauseFor } from './query-text'

export class Controls {
  private query: Query
  readonly q = byId<HTMLInputElement>('q')
  private readonly app = byId<HTMLSelectElement>('app')
  private readonly levels = byId('levels')
  private readonly ranges = byId('ranges')
  private readonly from = byId<HTMLInputElement>('from')
  private readonly to = byId<HTMLInputElement>('to')
  private readonly filters = byId('filters')
  private readonly error = byId('qerror')

  /** `onChange(q, again)`: again when the same query was submitted once more (run it again). */
  constructor (initial: Query, private readonly onChange: (q: Query, again: boolean) => void, names: () => Promise<FieldName[]>) {
    this.query = initial
    new FieldCompletion(this.q, byId('qlist'), names) // kept alive by the box's listeners
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
      this.onChange({ ...this.query, query: this.q.value.trim() }, true)
    })
    // Clearing the box with its × (a "search" event with an empty value) shows everything again.
    this.q.addEventListener('search', () => { if (this.q.value === '') this.change({ query: '' }) })
    this.q.addEventListener('input', () => this.clearError())
    this.app.addEventListener('change', () => this.change({ app_name: this.app.value }))
    this.from.addEventListener('change', () => { const v = fromLocalInput(this.from.value); if (v !== '') this.change({ from: v }) })
    this.to.addEventListener('change', () => this.change({ to: fromLocalInput(this.to.value) }))
    this.filters.addEventListener('click', e => {
      const chip = (e.target as HTMLElement).closest<HTMLElement>('.fchip')
      if (chip === null) return
      if (chip.dataset.index === undefined) this.change({ q: '' })
      else this.change({ fields: this.query.fields.filter((_, k) => k !== Number(chip.dataset.index)) })
    })
    this.show(initial)
  }

  private change (part: Partial<Query>): void {
    this.onChange({ ...this.query, ...part }, false)
  }

  /**
   * A value clicked in an expanded event: `and field = value` (with `negate`, `and not field = value`)
   * added to what the box holds, and run; nothing when the box already has that term.
   */
  pick (path: readonly string[], value: unknown, negate: boolean): void {
    const clause = clauseFor(path, value, negate)
    if (clause === undefined) return
    this.q.value = addClause(this.q.value, clause)
    this.clearError()
    this.change({ query: this.q.value })
  }

  /** The collector could not parse the box's query: what and where, under the box; the text stays as typed. */
  showError (message: string, position: number, text: string): void {
    const at = Math.min(Math.max(position - 1, 0), text.length)
    const ch = at < text.length ? String.fromCodePoint(text.codePointAt(at)!) : ' '
    // A window around the position: a long query would not fit under the box.
    const from = Math.max(0, at - 48)
    const to = Math.min(text.length, at + ch.length + 24)
    const echo = el('code', 'echo')
    echo.append((from > 0 ? '…' : '') + text.slice(from, at), el('mark', '', ch), text.slice(at + ch.length, to) + (to < text.length ? '…' : ''))
    this.error.replaceChildren(el('span', 'why', `Not run: ${message.replace(/^query: /, '')}`), echo)
    this.error.hidden = false
    this.q.setAttribute('aria-invalid', 'true')
    this.q.setAttribute('aria-describedby', this.error.id)
    // The caret to the place, when the box has the text that was sent.
    if (document.activeElement === this.q && this.q.value.trim() === text) {
      const lead = this.q.value.length - this.q.value.trimStart().length
      this.q.setSelectionRange(lead + at, lead + at)
    }
    document.body.dataset.queryError = String(position)
  }

  clearError (): void {
    if (this.error.hidden) return
    this.error.hidden = true
    this.error.replaceChildren()
    this.q.removeAttribute('aria-invalid')
    this.q.removeAttribute('aria-describedby')
    delete document.body.dataset.queryError
  }

  show (q: Query): void {
    this.query = q
    // The box keeps what was typed, spaces and all, while it says the same; focused, it is not written over.
    if (document.activeElement !== this.q && this.q.value.trim() !== q.query) this.q.value = q.query
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
    // q and f.<field> of an older link: kept as they are (their meaning is not quite the language's).
    const chips = q.fields.map(([k, v], i) => {
      const chip = el('button', 'fchip')
      chip.dataset.index = String(i)
      chip.append(el('span', 'fk', k), ' = ', el('span', 'fv', v))
      return chip
    })
    if (q.q !== '') {
      const chip = el('button', 'fchip')
      chip.append(el('span', 'fk', 'message contains'), ' ', el('span', 'fv', JSON.stringify(q.q)))
      chips.unshift(chip)
    }
    for (const chip of chips) {
      chip.type = 'button'
      chip.title = 'From the link (q / f.<field>): remove this filter'
      chip.append(el('span', 'x', '×'))
    }
    this.filters.replaceChildren(...chips)
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
