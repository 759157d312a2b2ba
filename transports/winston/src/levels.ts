// winston level names → names the collector accepts. npm and syslog names pass as they are. A custom
// level takes the accepted name nearest to it in the logger's own scale (ties go to the more severe), so
// `{ panic: 0, error: 1, info: 2, chatty: 3 }` ships panic as error and chatty as info; a scale with no
// accepted name at all ships as info. The record keeps the original name in `level_raw` (record.ts).
import { mapRecord } from '@maap-event-logger/shipper/app-thread'

export type Levels = Readonly<Record<string, number>>

// The core's mapper is the one authority on which names the collector takes: ask it, once per name.
const accepted = new Map<string, boolean>()
function isAccepted (name: string): boolean {
  let ok = accepted.get(name)
  if (ok === undefined) {
    ok = mapRecord({ level: name, message: '' }).level === name
    accepted.set(name, ok)
  }
  return ok
}

export class LevelMapper {
  #levels: Levels | undefined
  #cache = new Map<string, string>()

  /** The name to ship for `name`, given the logger's levels (`transport.levels`, set on pipe). */
  map (name: string, levels: Levels | undefined): string {
    if (levels !== this.#levels) {
      this.#levels = levels
      this.#cache = new Map()
    }
    let mapped = this.#cache.get(name)
    if (mapped === undefined) {
      mapped = isAccepted(name) ? name : nearest(name, levels)
      this.#cache.set(name, mapped)
    }
    return mapped
  }
}

function nearest (name: string, levels: Levels | undefined): string {
  const priority = levels?.[name]
  if (levels === undefined || typeof priority !== 'number') return 'info'
  let best: string | undefined
  let bestDistance = Infinity
  for (const [candidate, p] of Object.entries(levels)) {
    if (!isAccepted(candidate)) continue
    const distance = Math.abs(p - priority)
    // Lower numbers are more severe in winston; on a tie the more severe neighbour wins.
    if (distance < bestDistance || (distance === bestDistance && p < levels[best!]!)) {
      best = candidate
      bestDistance = distance
    }
  }
  return best ?? 'info'
}
