// A few DOM helpers, so the modules build elements without innerHTML (event text is never parsed as HTML).
export function el<K extends keyof HTMLElementTagNameMap> (tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (cls !== undefined && cls !== '') e.className = cls
  if (text !== undefined) e.textContent = text
  return e
}

export function byId<T extends HTMLElement = HTMLElement> (id: string): T {
  const e = document.getElementById(id)
  if (e === null) throw new Error(`#${id} is missing from index.html`)
  return e as T
}
