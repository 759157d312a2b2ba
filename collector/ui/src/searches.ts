// Saved searches, next to the search box:
//
//   Save ──► name form ──► POST /searches {name, query: wholeQuery(page)} ──► 201, or the refusal under the form
//   Saved ▾ ──► GET /searches ──► list: a name applies its query (into the URL, as if typed),
//                                       ✎ renames in place (PUT), × deletes after a confirm step (DELETE)
// What is saved is the page's filters as one query (query.ts wholeQuery): the app picker and level chips
// are folded in, so applying one clears them and the saved query is the whole filter; the time range stays.
import { ApiError } from './api'
import { searches, type SavedSearch } from './alerts-api'
import { byId, el } from './dom'
import { wholeQuery, type Query } from './query'

export class SavedSearches {
  private readonly save = byId<HTMLButtonElement>('save')
  private readonly toggle = byId<HTMLButtonElement>('savedbtn')
  private readonly form = byId<HTMLFormElement>('saveform')
  private readonly name = byId<HTMLInputElement>('savename')
  private readonly shown = byId('savequery')
  private readonly error = byId('saveerror')
  private readonly panel = byId('savedpanel')
  private readonly list = byId('savedlist')
  private readonly msg = byId('savedmsg')
  private query: string | undefined

  /** `apply(query)`: put a saved query in the URL as the page's whole filter. */
  constructor (private readonly apply: (query: string) => void) {
    this.save.addEventListener('click', () => { if (this.form.hidden) this.openForm(); else this.closeForm() })
    byId('savecancel').addEventListener('click', () => this.closeForm())
    this.form.addEventListener('submit', e => { e.preventDefault(); void this.submit() })
    this.toggle.addEventListener('click', () => { if (this.panel.hidden) void this.openList(); else this.closeList() })
    // Clicks elsewhere and Esc close what is open, as a menu does.
    addEventListener('click', e => {
      const inside = (e.target as HTMLElement).closest('.saved') !== null
      if (!inside) { this.closeList(); this.closeForm() }
    })
    addEventListener('keydown', e => {
      if (e.key === 'Escape' && (!this.panel.hidden || !this.form.hidden)) { this.closeList(); this.closeForm() }
    })
  }

  /** The page's filters changed: what Save would save, or why it cannot. */
  show (q: Query): void {
    this.query = wholeQuery(q)
    this.save.disabled = this.query === undefined
    this.save.title = this.query === undefined
      ? 'Remove the filters from the older link (the chips) to save this search'
      : 'Save this search (its query, with the app and level folded in)'
  }

  private openForm (): void {
    if (this.query === undefined) return
    this.closeList()
    this.shown.textContent = this.query === '' ? '(everything)' : this.query
    this.name.value = ''
    this.name.removeAttribute('aria-invalid')
    this.error.hidden = true
    this.form.hidden = false
    this.save.setAttribute('aria-expanded', 'true')
    this.name.focus()
  }

  private closeForm (): void {
    if (this.form.hidden) return
    this.form.hidden = true
    this.save.setAttribute('aria-expanded', 'false')
  }

  private async submit (): Promise<void> {
    const name = this.name.value.trim()
    if (name === '' || this.query === undefined) return
    try {
      await searches.create(name, this.query)
      this.closeForm()
      document.body.dataset.savedSearch = name
    } catch (err) {
      this.error.textContent = refusal(err)
      this.error.hidden = false
      this.name.setAttribute('aria-invalid', String(err instanceof ApiError && err.code === 'MAAP_NAME_TAKEN'))
    }
  }

  private async openList (): Promise<void> {
    this.closeForm()
    this.panel.hidden = false
    this.toggle.setAttribute('aria-expanded', 'true')
    await this.load()
  }

  private closeList (): void {
    if (this.panel.hidden) return
    this.panel.hidden = true
    this.toggle.setAttribute('aria-expanded', 'false')
  }

  private async load (): Promise<void> {
    this.msg.textContent = 'Loading…'
    document.body.dataset.saved = 'loading'
    try {
      const all = await searches.list()
      all.sort((a, b) => a.name.localeCompare(b.name))
      this.list.replaceChildren(...all.map(s => this.item(s)))
      this.msg.textContent = all.length === 0 ? 'No saved searches yet: search, then Save.' : ''
    } catch (err) {
      this.list.replaceChildren()
      this.msg.textContent = `Could not list saved searches: ${refusal(err)}`
    }
    document.body.dataset.saved = String(this.list.childElementCount)
  }

  private item (s: SavedSearch): HTMLElement {
    const li = el('li', 'sitem')
    li.dataset.id = s.id
    const use = el('button', 'use')
    use.type = 'button'
    use.title = 'Show these events'
    use.append(el('span', 'sname', s.name), el('code', 'squery', s.query === '' ? '(everything)' : s.query))
    use.addEventListener('click', () => { this.closeList(); this.apply(s.query) })
    const rename = button('rename', '✎', `Rename "${s.name}"`, () => this.renaming(li, s))
    const remove = button('delete', '×', `Delete "${s.name}"`, () => this.deleting(li, s))
    li.append(use, rename, remove)
    return li
  }

  private renaming (li: HTMLElement, s: SavedSearch): void {
    const form = el('form', 'srename')
    const input = el('input')
    input.value = s.name
    input.required = true
    input.setAttribute('aria-label', `New name for "${s.name}"`)
    const why = el('div', 'formerror')
    why.hidden = true
    why.setAttribute('role', 'alert')
    form.append(input, submit('Rename'), button('cancel', 'Cancel', 'Keep the name', () => { li.replaceWith(this.item(s)) }), why)
    form.addEventListener('submit', e => {
      e.preventDefault()
      const name = input.value.trim()
      if (name === '' || name === s.name) { li.replaceWith(this.item(s)); return }
      searches.update(s, name).then(() => this.load(), err => {
        why.textContent = refusal(err)
        why.hidden = false
        input.setAttribute('aria-invalid', 'true')
      })
    })
    li.replaceChildren(form)
    input.focus()
    input.select()
  }

  private deleting (li: HTMLElement, s: SavedSearch): void {
    const ask = el('div', 'confirm')
    const yes = button('yes danger', 'Delete', '', () => {
      searches.remove(s).then(() => this.load(), err => { ask.replaceChildren(el('span', 'formerror', refusal(err))) })
    })
    ask.append(el('span', '', `Delete "${s.name}"?`), yes, button('cancel', 'Cancel', '', () => { li.replaceWith(this.item(s)) }))
    li.replaceChildren(ask)
    yes.focus()
  }
}

function button (cls: string, text: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', cls, text)
  b.type = 'button'
  if (title !== '') b.title = title
  b.addEventListener('click', e => { e.stopPropagation(); onClick() })
  return b
}

function submit (text: string): HTMLButtonElement {
  const b = el('button', 'primary', text)
  b.type = 'submit'
  return b
}

/** What the collector said, as a sentence for the form. */
export function refusal (err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'MAAP_NAME_TAKEN' || err.status === 409) return `${err.message} (the name is taken: choose another)`
    return err.message
  }
  return (err as Error).message
}
