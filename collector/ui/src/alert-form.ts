// "Alert on this search": a dialog holding the alert's form, filled from the page's filters.
//
//   page filters ──wholeQuery──► form (name, query, condition, channels, group window, sample, repeat, enabled)
//        submit ──► POST /alerts (admin key) ──► 201: closed, the alerts view shows it
//                                            └─► 400: the collector's message above the form, the field it
//                                                names marked (a query that does not parse: the caret at its position)
// The form checks nothing the collector checks: one set of rules, said in one voice.
import { ApiError } from './api'
import { alerts, type AlertInput, type Channel, type Condition } from './alerts-api'
import { byId, el } from './dom'
import { refusal } from './searches'

export class AlertForm {
  private readonly dialog = byId<HTMLDialogElement>('alertdialog')
  private readonly form = byId<HTMLFormElement>('alertform')
  private readonly error = byId('alerterror')
  private readonly channels = byId('channels')

  /** `created()`: the alert was made (the page shows the alerts view). */
  constructor (private readonly created: () => void) {
    this.form.addEventListener('submit', e => { e.preventDefault(); void this.submit() })
    byId('alertcancel').addEventListener('click', () => this.dialog.close())
    for (const type of ['webhook', 'slack', 'email'] as const) {
      byId(`add-${type}`).addEventListener('click', () => { this.addChannel(type); this.renumber() })
    }
    this.form.addEventListener('change', () => this.conditionShown())
    this.form.addEventListener('input', e => (e.target as HTMLElement).removeAttribute('aria-invalid'))
  }

  open (query: string): void {
    this.form.reset()
    this.clearError()
    this.channels.replaceChildren()
    this.input('query').value = query
    this.input('name').value = query.length > 60 ? `${query.slice(0, 57)}…` : query
    this.conditionShown()
    this.renumber()
    this.dialog.showModal()
    this.input('name').focus()
    this.input('name').select()
  }

  private input<T extends HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement = HTMLInputElement> (name: string): T {
    return this.form.elements.namedItem(name) as T
  }

  /** The count inputs only with a count condition; repeat only means something there. */
  private conditionShown (): void {
    const count = this.input('ctype').value === 'count'
    for (const name of ['cmp', 'n', 'window', 'repeat_after']) this.input(name).disabled = !count
    this.input('n').dataset.field = `condition.${this.input<HTMLSelectElement>('cmp').value}`
    this.form.dataset.condition = count ? 'count' : 'each'
  }

  private addChannel (type: Channel['type']): void {
    const row = el('div', `channel ch-${type}`)
    row.dataset.type = type
    const field = (name: string, label: string, opts: { type?: string, placeholder?: string } = {}): HTMLLabelElement => {
      const l = el('label', `cf cf-${name}`)
      const i = el('input')
      i.name = `ch-${name}`
      i.type = opts.type ?? 'text'
      i.autocomplete = 'off'
      i.spellcheck = false
      if (opts.placeholder !== undefined) i.placeholder = opts.placeholder
      i.dataset.part = name
      l.append(el('span', '', label), i)
      return l
    }
    row.append(el('span', 'ctype', type === 'email' ? 'E-mail' : type === 'slack' ? 'Slack' : 'Webhook'))
    if (type === 'webhook') {
      row.append(field('url', 'URL', { type: 'url', placeholder: 'https://ops.example/hook' }),
        field('secret', 'Secret (optional)', { type: 'password', placeholder: 'signs each body (HMAC-SHA256)' }))
    } else if (type === 'slack') {
      row.append(field('url', 'Incoming-webhook URL', { type: 'url', placeholder: 'https://hooks.slack.com/services/…' }))
    } else {
      row.append(field('to', 'To', { placeholder: 'oncall@example.com, dev@example.com' }))
    }
    const remove = el('button', 'remove', '×')
    remove.type = 'button'
    remove.title = 'Remove this channel'
    remove.setAttribute('aria-label', 'Remove this channel')
    remove.addEventListener('click', () => { row.remove(); this.renumber() })
    row.append(remove)
    this.channels.append(row)
    row.querySelector('input')?.focus()
  }

  /** Each channel's inputs named by their place in `channels`, as the collector names them in a refusal. */
  private renumber (): void {
    const rows = [...this.channels.children] as HTMLElement[]
    rows.forEach((row, i) => {
      row.dataset.field = `channels.${i}`
      for (const input of row.querySelectorAll<HTMLInputElement>('input')) input.dataset.field = `channels.${i}.${input.dataset.part!}`
    })
    byId('nochannels').hidden = rows.length > 0
  }

  /** What the form says, as POST /alerts takes it (numbers that are not numbers go as typed: the collector names them). */
  private value (): AlertInput {
    const number = (name: string): number => {
      const text = this.input(name).value.trim()
      return text === '' ? NaN : Number(text)
    }
    const n = number('n')
    const window = this.input('window').value.trim()
    const condition: Condition = this.input('ctype').value === 'count'
      ? (this.input<HTMLSelectElement>('cmp').value === 'below' ? { type: 'count', below: n, window } : { type: 'count', above: n, window })
      : { type: 'each' }
    const channels = ([...this.channels.children] as HTMLElement[]).map((row): Channel => {
      const part = (name: string): string => row.querySelector<HTMLInputElement>(`[data-part="${name}"]`)?.value.trim() ?? ''
      if (row.dataset.type === 'email') return { type: 'email', to: part('to').split(',').map(s => s.trim()).filter(s => s !== '') }
      if (row.dataset.type === 'slack') return { type: 'slack', url: part('url') }
      const secret = part('secret')
      return secret === '' ? { type: 'webhook', url: part('url') } : { type: 'webhook', url: part('url'), secret }
    })
    const repeat = this.input('repeat_after').value.trim()
    return {
      name: this.input('name').value.trim(),
      query: this.input<HTMLTextAreaElement>('query').value.trim(),
      condition,
      channels,
      group_window: this.input('group_window').value.trim(),
      sample: number('sample'),
      repeat_after: condition.type === 'count' && repeat !== '' ? repeat : null,
      enabled: this.input('enabled').checked
    }
  }

  private async submit (): Promise<void> {
    this.clearError()
    const body = this.value()
    this.form.dataset.busy = 'true'
    try {
      await alerts.create(body)
      this.dialog.close()
      this.created()
    } catch (err) {
      this.showError(err)
    } finally {
      delete this.form.dataset.busy
    }
  }

  private clearError (): void {
    this.error.hidden = true
    this.error.replaceChildren()
    for (const e of this.form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid')
    delete this.form.dataset.error
  }

  private showError (err: unknown): void {
    const field = !(err instanceof ApiError) ? undefined : err.code === 'MAAP_BAD_QUERY' ? 'query' : fieldOf(err)
    this.error.textContent = refusal(err)
    this.error.hidden = false
    this.form.dataset.error = field ?? ''
    const target = field === undefined ? undefined : this.target(field)
    if (target === undefined) return
    target.setAttribute('aria-invalid', 'true')
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
      target.focus()
      if (err instanceof ApiError && err.code === 'MAAP_BAD_QUERY' && err.position !== undefined && target.name === 'query') {
        const at = Math.min(err.position - 1, target.value.length)
        target.setSelectionRange(at, at)
      }
    }
  }

  /** The input for `channels.0.url`, or the nearest thing the name reaches (`channels.0`, `channels`). */
  private target (field: string): HTMLElement | undefined {
    const parts = field.split('.')
    for (let n = parts.length; n > 0; n--) {
      const name = parts.slice(0, n).join('.')
      const found = this.form.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`)
      if (found !== null) return found
    }
    return undefined
  }
}

/**
 * The field a refusal names, as a dotted path: the answer's `field` when it has one, else the start of its
 * message (`channels[0].url: …`, `body/channels/0/url must …`, `condition.window: …`). Plain string work:
 * nothing here can backtrack, whatever the message holds.
 */
export function fieldOf (err: ApiError): string | undefined {
  let text = err.field ?? err.message
  const end = [':', ' '].map(c => text.indexOf(c)).filter(i => i > 0)
  if (err.field === undefined) {
    if (end.length === 0) return undefined
    text = text.slice(0, Math.min(...end))
  }
  const path = text.replaceAll('[', '.').replaceAll(']', '').replaceAll('/', '.').split('.').filter(s => s !== '')
  if (path[0] === 'body') path.shift()
  if (path.length === 0 || !path.every(s => /^[A-Za-z0-9_]+$/.test(s))) return undefined
  return path.join('.')
}
