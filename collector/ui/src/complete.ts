// Field-name completion in the search box: an ARIA combobox (the input) with a listbox of the names
// GET /logs/fields answers, matched against the word at the caret when a field name can stand there.
//
//   typing ──fieldAt──▶ word ──names()──▶ matches (prefix first, then a dotted part's prefix) ──▶ list
//   ↓/↑ move · Tab takes the highlighted or first · Enter takes the highlighted (else the form submits)
//   Esc closes · a click takes one · the taken name replaces the word, followed by a space
//
// Nothing is highlighted until ↓ or the mouse says so, so Enter after a plain word still searches.
import type { FieldName } from './api'
import { el } from './dom'
import { fieldAt, fieldText } from './query-text'

const SHOWN = 8

export class FieldCompletion {
  private matches: FieldName[] = []
  private active = -1

  /** `names` answers the field names for the current filters (cached by the caller). */
  constructor (private readonly input: HTMLInputElement, private readonly list: HTMLElement,
    private readonly names: () => Promise<FieldName[]>) {
    input.setAttribute('role', 'combobox')
    input.setAttribute('aria-autocomplete', 'list')
    input.setAttribute('aria-controls', list.id)
    input.setAttribute('aria-expanded', 'false')
    list.setAttribute('role', 'listbox')
    input.addEventListener('focus', () => { void names().catch(() => {}) }) // fetched before the first key
    input.addEventListener('input', () => { void this.update(false) })
    input.addEventListener('blur', () => this.close())
    input.addEventListener('keydown', e => this.key(e))
    // mousedown, not click: the input keeps its focus (and its caret).
    list.addEventListener('mousedown', e => {
      const li = (e.target as HTMLElement).closest<HTMLElement>('[data-index]')
      if (li === null) return
      e.preventDefault()
      this.take(Number(li.dataset.index))
    })
    list.addEventListener('mousemove', e => {
      const li = (e.target as HTMLElement).closest<HTMLElement>('[data-index]')
      if (li !== null && Number(li.dataset.index) !== this.active) this.highlight(Number(li.dataset.index))
    })
  }

  get open (): boolean { return !this.list.hidden }

  /** The list for the word at the caret; `any`: also for an empty word (↓ asks for every name). */
  private async update (any: boolean): Promise<void> {
    const text = this.input.value
    const caret = this.input.selectionStart ?? text.length
    const word = fieldAt(text, caret)
    if (word === undefined || (word.prefix === '' && !any)) return this.close()
    let all: FieldName[]
    try {
      all = await this.names()
    } catch {
      return this.close() // no completion without the route; the box works as before
    }
    // The text may have changed while the names were fetched: only the latest call draws.
    if (this.input.value !== text || (this.input.selectionStart ?? text.length) !== caret || document.activeElement !== this.input) return
    this.matches = matching(all, word.prefix)
    this.render()
  }

  private render (): void {
    if (this.matches.length === 0) return this.close()
    this.active = -1
    this.list.replaceChildren(...this.matches.map((f, i) => {
      const li = el('li', 'opt')
      li.id = `${this.list.id}-${i}`
      li.dataset.index = String(i)
      li.setAttribute('role', 'option')
      li.setAttribute('aria-selected', 'false')
      li.append(el('span', 'name', f.name), el('span', 'types', f.types.join(' · ')), el('span', 'count', f.count.toLocaleString()))
      return li
    }))
    this.list.hidden = false
    this.input.setAttribute('aria-expanded', 'true')
    this.input.removeAttribute('aria-activedescendant')
    document.body.dataset.completion = 'open'
  }

  private highlight (i: number): void {
    this.active = i
    for (const li of this.list.children) {
      const on = Number((li as HTMLElement).dataset.index) === i
      li.classList.toggle('on', on)
      li.setAttribute('aria-selected', String(on))
      if (on) {
        this.input.setAttribute('aria-activedescendant', li.id)
        li.scrollIntoView({ block: 'nearest' })
      }
    }
  }

  close (): void {
    if (this.list.hidden) return
    this.list.hidden = true
    this.list.replaceChildren()
    this.matches = []
    this.active = -1
    this.input.setAttribute('aria-expanded', 'false')
    this.input.removeAttribute('aria-activedescendant')
    delete document.body.dataset.completion
  }

  private key (e: KeyboardEvent): void {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      if (!this.open) {
        if (e.key === 'ArrowDown') void this.update(true)
        return
      }
      const n = this.matches.length
      this.highlight(e.key === 'ArrowDown' ? (this.active + 1) % n : (this.active <= 0 ? n - 1 : this.active - 1))
    } else if (e.key === 'Tab' && this.open && !e.shiftKey) {
      e.preventDefault()
      this.take(Math.max(this.active, 0))
    } else if (e.key === 'Enter' && this.open && this.active >= 0) {
      e.preventDefault()
      this.take(this.active)
    } else if (e.key === 'Escape' && this.open) {
      // Esc closes the list only; the page's own Esc (leave the box) waits for the next one.
      e.preventDefault()
      e.stopPropagation()
      this.close()
    } else if (e.key === 'Enter') {
      this.close()
    }
  }

  private take (i: number): void {
    const f = this.matches[i]
    const text = this.input.value
    // The word as it is now: a key typed while the names were being fetched may have grown it.
    const word = fieldAt(text, this.input.selectionStart ?? text.length)
    if (f === undefined || word === undefined) return
    const rest = text.slice(word.end)
    const insert = f.name + (rest.startsWith(' ') ? '' : ' ')
    this.input.value = text.slice(0, word.start) + insert + rest
    const caret = word.start + insert.length
    this.input.setSelectionRange(caret, caret)
    this.close()
    // As typing would: whoever listens (the error line) sees the edit; the list stays closed (empty word).
    this.input.dispatchEvent(new Event('input', { bubbles: true }))
  }
}

/** Names the query can write that start with `prefix` (case-insensitively), then those with a dotted part that does. */
export function matching (all: readonly FieldName[], prefix: string): FieldName[] {
  const p = prefix.toLowerCase()
  const first: FieldName[] = []
  const then: FieldName[] = []
  for (const f of all) {
    if (f.name === prefix || fieldText(f.name.split('.')) === undefined) continue
    const name = f.name.toLowerCase()
    if (name.startsWith(p)) first.push(f)
    else if (name.split('.').some(part => part.startsWith(p))) then.push(f)
  }
  return [...first, ...then].slice(0, SHOWN)
}
