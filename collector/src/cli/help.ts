// --help texts, one per command; the README's "Reading your logs from a terminal" says the same.

const QUERY = `The query: one argument in the query language (the read API's query). Quote it: the
shell splits at spaces and takes > < ( ) * " ' for its own; inside '…' use "…".
  timeout   "connection reset"         message contains the word / the phrase, any case
  level >= ERROR and app_name = api    = != > >= < <= (: is =), and, or, not, ( … )
  http.status >= 500                   fields nested by dots; unquoted numbers are numbers
  region in (eu, us)                   any of these values
  user_id exists                       the field is there (with any value, null too)
  host = web-*                         a prefix (a * only at the end)
  message contains slow                a substring of a text field, any case
  timestamp >= 2026-12-01T09:00:00Z    times as times (received_at > 15m); level by rank
Adjacent terms are ANDed (timeout api = timeout and api); and binds tighter than or.
Quote values with spaces or ( ) , = ! < > : in them, and the words and or not in exists
contains meant as text; inside quotes \\" and \\\\ escape. A query the collector cannot
parse is shown with a caret under the place, exit 2.`

const FILTERS = `Filters (ANDed with each other and with the query; the read API's parameters):
  -a, --app-name <names>   one app, or several separated by commas            (app_name)
  -l, --level <level>      this level and above: TRACE DEBUG INFO WARNING ERROR CRITICAL (level)
  -q, --query <text>       message contains this text, case-insensitively and literally:
                           no operators, unlike the query argument             (q)
  -f, --field <key=value>  a field equals a value, nested keys by dots; repeatable (f.<key>)
      --from <time>        from this time on: ISO 8601, epoch ms, or 15m / 2h / 7d ago (from)
      --to <time>          before this time                                   (to)`

const COMMON = `Connection and output:
      --url <url>          the collector [MAAP_URL] (default http://127.0.0.1:8181)
      --api-key <key>      a key that may read (READ_API_KEYS or ADMIN_API_KEY) [MAAP_API_KEY]
      --json               one event per line as stored (NDJSON), for jq and friends
      --color, --no-color  force colours on or off (default: on when stdout is a terminal
                           and NO_COLOR is not set)
      --utc                times as ISO 8601 in UTC (default: local time, the date only when
                           not today)
  -h, --help               this text`

const EXIT = `Exit status: 0 done (or stopped with Ctrl-C); 1 the collector refused (a key, or a query
to a collector that predates the language) or could not be reached; 2 bad usage, including
a filter or query the collector rejects.`

const MAIN = `Usage: maap-logs <command> ['<query>'] [options]

Reads the logs a MAAP collector stores, from a terminal.

Commands:
  search   the newest matching events, oldest first (like the end of a log file)
  tail     every new matching event as it arrives; reconnects by itself and resumes
           exactly where it stopped, nothing lost or doubled
  export   every matching event in a LOG_DIR, read from its files (no collector needed),
           as NDJSON

Examples:
  maap-logs search 'http.status >= 500' --from 1h
  maap-logs tail 'level >= WARNING'
  maap-logs export --dir /var/lib/maap-event-logger 'level >= ERROR' > errors.ndjson

Run "maap-logs <command> --help" for the query and the options. "maap-logs --version"
prints the version.

${EXIT}`

const SEARCH = `Usage: maap-logs search ['<query>'] [filters] [--limit N | --all] [options]

Prints the newest N matching events (default 100), oldest first, newest last: the end
of a log file, as "kubectl logs --tail N" shows it.

  -n, --limit <n>          how many of the newest to print (default 100; above 1000 they
                           come through the collector's NDJSON export)
      --all                every match, streamed newest first as the export sends it
                           (reversing would hold them all in memory; pipe to tac)

${QUERY}

${FILTERS}

${COMMON}

Examples:
  maap-logs search 'http.status >= 500' --from 1h
  maap-logs search 'level >= ERROR and not url.path = "/health"' -a payments -n 20
  maap-logs search '"connection reset" or timeout' --json | jq .message
  maap-logs search "user = 'Ann Lee'" --all > ann.log

${EXIT}`

const TAIL = `Usage: maap-logs tail ['<query>'] [filters] [options]

Prints every matching event from now on as the collector acknowledges it, until Ctrl-C.
A dropped connection is retried with backoff and resumed with Last-Event-ID: nothing is
lost or printed twice while the collector's journal still holds the events.

${QUERY}

${FILTERS}

${COMMON}

Examples:
  maap-logs tail 'level >= WARNING'
  maap-logs tail 'http.status >= 500 or "connection reset"' --app-name api,web

${EXIT}`

const EXPORT = `Usage: maap-logs export --dir <LOG_DIR> ['<query>'] [filters]

Prints every matching event stored in a collector's LOG_DIR, read from the files
themselves: no collector is needed, and one may be running. Each event is its journal
line exactly as stored (NDJSON), compacted segments (.ndjson.z, which zcat cannot read)
decoded. Nothing in LOG_DIR is written, renamed or deleted: a read-only copy will do.

  -d, --dir <dir>          the collector's LOG_DIR (or a copy): its own segments, and
                           those of worker-<i>/ below it (WORKER_COUNT > 1)

Order: each directory's events in the order they arrived (segment by segment, line by
line); several directories merged by received_at, so the whole is the order in which
the service received them. Not by timestamp: pipe to jq/sort for that.

What is on disk is what is printed: a segment file is printed whole until the collector
deletes it (by DELETE_LOGS_OLDER_THAN, or with RETENTION_RULES once every event in it
has expired), expired events included; events written after a segment was reached, and
a line still being written, are not waited for. A file that cannot be read whole (a
damaged compacted segment, one set aside as .z.damaged, a closed segment's last line cut
short by a crash) is skipped with a warning on stderr naming it, and the exit status is
1; everything else is printed. A .z.damaged file does so until it is removed, whatever
the filters. A collector starting with WORKER_COUNT > 1 meanwhile moves LOG_DIR's
journal into worker-1/: the export stops, exit 1; run it again.

${QUERY.replace(/ A query the collector cannot\nparse is shown with a caret under the place, exit 2\./, '\nA query that does not parse is shown with a caret under the place, exit 2.')}

${FILTERS}

  -h, --help               this text

Examples:
  maap-logs export --dir /var/lib/maap-event-logger > all.ndjson
  maap-logs export --dir ./logs 'level >= ERROR' -a api --from 2h | jq .message
  maap-logs export --dir ./logs -q timeout --from 2026-12-01 --to 2026-12-02 | head

Exit status: 0 everything was printed (or the reader of stdout closed it: | head); 1 a
file or part of one could not be read (warned of and skipped), or stdout could not be
written; 2 bad usage: no --dir, a directory that is not there or holds no journal, a
filter or query that is not valid.`

export function helpFor (command: 'search' | 'tail' | 'export' | undefined): string {
  return command === 'search' ? SEARCH : command === 'tail' ? TAIL : command === 'export' ? EXPORT : MAIN
}
