// Moved to the shared test support (test/support/journal.ts); kept so tests written against this path still work.
export { journaled, segments } from '../support/journal'
