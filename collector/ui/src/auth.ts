// The read key. With keys configured the read routes answer 401 without one: the page then asks once
// (one dialog, however many requests were refused at the same moment), keeps the key in sessionStorage —
// this tab only, gone when it closes — and says plainly when a key was refused (403).
import { byId } from './dom'

const STORAGE = 'maap.readKey'
let key: string | null = sessionStorage.getItem(STORAGE)
let asking: Promise<void> | null = null

export function authHeaders (): Record<string, string> {
  return key === null ? {} : { authorization: `Bearer ${key}` }
}

/** Shows the key dialog (once for concurrent callers) and resolves when a new key was entered. */
export async function askForKey (refused: boolean): Promise<void> {
  if (asking !== null) return await asking
  asking = new Promise<void>(resolve => {
    const dialog = byId<HTMLDialogElement>('keydialog')
    const input = byId<HTMLInputElement>('keyinput')
    const msg = byId('keymsg')
    msg.textContent = refused
      ? 'That key may not read logs (403). Use a key from READ_API_KEYS or the ADMIN_API_KEY — an ingest key cannot read.'
      : 'This collector has API keys. Enter a key from READ_API_KEYS or the ADMIN_API_KEY; it is kept for this tab only.'
    msg.classList.toggle('bad', refused)
    document.body.dataset.keyprompt = refused ? 'refused' : 'asked'
    input.value = ''
    const form = byId<HTMLFormElement>('keyform')
    const done = (): void => {
      const v = input.value.trim()
      if (v === '') return
      form.removeEventListener('submit', onSubmit)
      key = v
      sessionStorage.setItem(STORAGE, v)
      delete document.body.dataset.keyprompt
      dialog.close()
      asking = null
      resolve()
    }
    const onSubmit = (e: Event): void => { e.preventDefault(); done() }
    form.addEventListener('submit', onSubmit)
    // Esc would close the dialog with nothing to show behind it: keep it open until a key is given.
    dialog.addEventListener('cancel', e => e.preventDefault(), { once: true })
    if (!dialog.open) dialog.showModal()
    input.focus()
  })
  return await asking
}
