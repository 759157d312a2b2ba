// What /proc says about a process (Linux): its resident set now and at its peak, and the CPU it used. Plain CommonJS, so
// TypeScript tests and the .mjs benches share the one reader.
'use strict'
const { readFileSync } = require('node:fs')

function statusKb (pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  // A zombie (exited, not yet reaped) has no memory lines: NaN, which no comparison takes for a peak.
  return m ? Number(m[1]) : NaN
}

/** Resident set size of a live process now, in MB. */
function rssMb (pid) {
  return statusKb(pid, 'VmRSS') / 1024
}

/** Peak resident set size of a live process (VmHWM only grows), in MB. */
function peakRssMb (pid) {
  return statusKb(pid, 'VmHWM') / 1024
}

/** CPU-seconds a live process has used so far, user and system (utime + stime, in clock ticks of 10 ms). */
function cpuSeconds (pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

module.exports = { rssMb, peakRssMb, cpuSeconds }
