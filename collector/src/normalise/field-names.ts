// Field names that MongoDB (or FerretDB) cannot store, or that are dangerous in JavaScript, are
// renamed — never dropped — by one documented rule (see the README):
//   leading `$`  → `_$…`        `.` → `_`        NUL → `_`        empty name → `_empty`
//   `__proto__`  → `_proto__`   top-level `_id` / `received_at` sent by a client → `client_…`
//   a renamed field that collides with an existing one gets `_2`, `_3`, … appended.

/** The rule above as character tests: it runs for every field name of every event, where a regex cost more. */
export function needsRename (key: string): boolean {
  if (key.length === 0 || key.charCodeAt(0) === 36 /* $ */ || key === '__proto__') return true
  return key.includes('.') || key.includes('\u0000')
}

export function renameField (key: string): string {
  if (key === '') return '_empty'
  if (key === '__proto__') return '_proto__'
  // eslint-disable-next-line no-control-regex
  let out = key.replace(/[.\u0000]/g, '_')
  if (out.startsWith('$')) out = '_' + out
  return out
}

/** The first free name for `wanted` in `target`: itself, then wanted_2, wanted_3, … */
export function freeName (target: Record<string, unknown>, wanted: string): string {
  if (!Object.hasOwn(target, wanted)) return wanted
  for (let i = 2; ; i++) {
    const candidate = `${wanted}_${i}`
    if (!Object.hasOwn(target, candidate)) return candidate
  }
}
