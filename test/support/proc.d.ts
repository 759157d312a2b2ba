/** Resident set size of a live process now, in MB (Linux). */
export function rssMb (pid: number): number
/** Peak resident set size of a live process, in MB (Linux). */
export function peakRssMb (pid: number): number
/** CPU-seconds a live process has used so far, user and system (Linux). */
export function cpuSeconds (pid: number): number
