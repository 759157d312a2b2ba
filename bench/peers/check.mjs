// Each answer against the generator's own counts, and the two stores' answers against each other.
// A mismatch is printed and counted, never thrown: the table is still worth seeing, and says so.

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)

/** What each query must answer, from the generator's counts, in the shape the store adapters answer in. */
export function expected (counts) {
  return {
    newestRare: counts.rareNewest,
    newestAppErrors: counts.appErrorNewest,
    countWord: counts.common,
    exportWord: counts.common, // lines; bytes differ by design (each store writes its own fields)
    histogram: counts.hourly
  }
}

/** A short description of how `got` differs from `want`, or undefined when it does not. */
export function differs (query, got, want) {
  const g = query === 'exportWord' ? got.lines : got
  if (same(g, want)) return undefined
  if (Array.isArray(want) && query !== 'histogram') {
    const k = want.findIndex((t, i) => g[i] !== t)
    return `${g.length} events (want ${want.length}); first difference at #${k}: ${g[k] === undefined ? 'none' : new Date(g[k]).toISOString()} vs ${want[k] === undefined ? 'none' : new Date(want[k]).toISOString()}`
  }
  if (query === 'histogram') {
    const h = want.findIndex((row, i) => !same(g[i], row))
    return `hour ${h}: ${JSON.stringify(g[h])} vs ${JSON.stringify(want[h])}`
  }
  return `${g} (want ${want})`
}
