// The result list: one row per event (time, level, app, message), newest first. A row expands to the
// whole event as formatted JSON, where clicking a value adds `field = value` to the query (Shift+click:
// `not field = value`), with a copy button. Rows are added in batches through a DocumentFragment: one
// layout per page of results, not one per event.
import type { Hit } from './api'
import { el } from './dom'
import { shortTime } from './format'
import { levelClass, levelText } from './levels'
import { clauseFor } from './query-text'

export type FilterPick = (path: string[], value: unknown, negate: boolean) => void

export class ResultsView {
  private readonly shown = new Set<string>()
  private selected: HTMLElement | null = null

  constructor (private readonly host: HTMLElement, private readonly onPick: FilterPick) {
    host.addEventListener('click', e => {
      const target = e.target as HTMLElement
      const value = target.closest<HTMLElement>('.jv[data-path]')
      if (value !== null) {
        this.onPick(value.dataset.path!.split('.'), JSON.parse(value.dataset.value!), e.shiftKey)
        return
      }
      const copy = target.closest<HTMLButtonElement>('button.copy')
      if (copy !== null) { void this.copy(copy); return }
      const head = target.closest<HTMLElement>('.row-head')
      if (head !== null) this.toggle(head.parentElement!)
    })
    // Shift+click would also extend the text selection across the JSON.
    host.addEventListener('mousedown', e => {
      if (e.shiftKey && (e.target as HTMLElement).closest('.jv[data-path]') !== null) e.preventDefault()
    })
  }

  get count (): number { return this.host.childElementCount }

  clear (): void {
    this.host.replaceChildren()
    this.shown.clear()
    this.selected = null
    this.mark()
  }

  /** Adds events (newest first) at the end (older) or the top (newer); none is shown twice. */
  add (events: Hit[], where: 'end' | 'top'): number {
    const frag = document.createDocumentFragment()
    let added = 0
    for (const ev of events) {
      const id = typeof ev._id === 'string' ? ev._id : undefined
      if (id !== undefined) {
        if (this.shown.has(id)) continue
        this.shown.add(id)
      }
      frag.append(this.row(ev))
      added++
    }
    if (where === 'top') this.host.prepend(frag)
    else this.host.append(frag)
    this.mark()
    return added
  }

  private mark (): void {
    document.body.dataset.rows = String(this.count)
  }

  private row (ev: Hit): HTMLElement {
    const row = el('article', 'row')
    const head = el('div', 'row-head')
    head.tabIndex = -1
    const level = typeof ev.level === 'string' ? ev.level : ''
    head.append(
      el('time', 'ts', shortTime(ev.timestamp)),
      el('span', `lv ${levelClass(level)}`, levelText(level)),
      el('span', 'app', typeof ev.app_name === 'string' ? ev.app_name : ''),
      el('span', 'msg', typeof ev.message === 'string' ? ev.message : JSON.stringify(ev.message ?? ''))
    )
    if (typeof ev.timestamp === 'string') head.firstElementChild!.setAttribute('datetime', ev.timestamp)
    row.append(head)
    ;(row as HTMLElement & { event?: Hit }).event = ev
    return row
  }

  toggle (row: HTMLElement, open?: boolean): void {
    const detail = row.querySelector('.detail')
    if (detail !== null && open !== true) { detail.remove(); row.classList.remove('open'); return }
    if (detail !== null) return
    if (open === false) return
    const ev = (row as HTMLElement & { event?: Hit }).event ?? {}
    const box = el('div', 'detail')
    const copy = el('button', 'copy', 'Copy JSON')
    copy.type = 'button'
    const pre = el('pre', 'json')
    renderJson(pre, ev, [], 0)
    box.append(el('span', 'hint', 'Click a value to add field = value to the query · Shift+click: not field = value'), copy, pre)
    row.append(box)
    row.classList.add('open')
    this.select(row)
  }

  private async copy (button: HTMLButtonElement): Promise<void> {
    const row = button.closest<HTMLElement>('.row')!
    const ev = (row as HTMLElement & { event?: Hit }).event ?? {}
    const text = JSON.stringify(ev, null, 2)
    try {
      await navigator.clipboard.writeText(text)
      button.textContent = 'Copied'
    } catch {
      // No clipboard permission (an insecure origin, say): select the JSON so Ctrl+C copies it.
      const range = document.createRange()
      range.selectNodeContents(row.querySelector('pre')!)
      getSelection()?.removeAllRanges()
      getSelection()?.addRange(range)
      button.textContent = 'Selected: press Ctrl+C'
    }
    setTimeout(() => { button.textContent = 'Copy JSON' }, 1500)
  }

  select (row: HTMLElement | null): void {
    this.selected?.classList.remove('sel')
    this.selected = row
    if (row === null) return
    row.classList.add('sel')
    row.scrollIntoView({ block: 'nearest' })
  }

  /** j / k: the next or previous row (the first when none is selected). */
  move (by: 1 | -1): void {
    const current = this.selected !== null && this.selected.isConnected ? this.selected : null
    const next = current === null
      ? this.host.firstElementChild
      : by === 1 ? current.nextElementSibling : current.previousElementSibling
    if (next !== null) this.select(next as HTMLElement)
  }

  toggleSelected (): void {
    if (this.selected !== null) this.toggle(this.selected)
  }

  /** Esc: closes the selected row's details, else every open row. */
  closeOpen (): boolean {
    if (this.selected?.classList.contains('open') === true) { this.toggle(this.selected, false); return true }
    const open = [...this.host.querySelectorAll<HTMLElement>('.row.open')]
    for (const row of open) this.toggle(row, false)
    return open.length > 0
  }
}

const NOT_FILTERS = new Set(['_id', 'timestamp', 'received_at', 'message'])

/** Pretty JSON as DOM: a value the query can write is a span that adds `path = value` when clicked. */
function renderJson (out: HTMLElement, v: unknown, path: string[], depth: number): void {
  const indent = '  '.repeat(depth)
  if (Array.isArray(v)) {
    if (v.length === 0) { out.append('[]'); return }
    out.append('[\n')
    v.forEach((item, i) => {
      out.append(indent + '  ')
      // An array matches when one of its items does: clicking an item filters on the array's path.
      renderJson(out, item, path, depth + 1)
      out.append(i < v.length - 1 ? ',\n' : '\n')
    })
    out.append(indent + ']')
    return
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v)
    if (entries.length === 0) { out.append('{}'); return }
    out.append('{\n')
    entries.forEach(([k, item], i) => {
      out.append(indent + '  ', el('span', 'jk', JSON.stringify(k)), ': ')
      renderJson(out, item, [...path, k], depth + 1)
      out.append(i < entries.length - 1 ? ',\n' : '\n')
    })
    out.append(indent + '}')
    return
  }
  const span = el('span', `jv j-${v === null ? 'null' : typeof v}`, JSON.stringify(v))
  // Unique or free text: a filter on them would find this event alone, or nothing useful.
  const clause = path.length === 1 && NOT_FILTERS.has(path[0]!) ? undefined : clauseFor(path, v, false)
  if (clause !== undefined) {
    span.dataset.path = path.join('.')
    span.dataset.value = JSON.stringify(v)
    span.title = `Click: add ${clause} to the query\nShift+click: add not ${clause}`
  }
  out.append(span)
}
