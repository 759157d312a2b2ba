// The OTLP/HTTP answers, in the request's encoding: ExportLogsServiceResponse (200) and google.rpc.Status
// (errors). Both are a few fields, so the protobuf bytes are written here directly:
//   ExportLogsServiceResponse { 1: ExportLogsPartialSuccess { 1: int64 rejected_log_records, 2: string error_message } }
//   google.rpc.Status         { 1: int32 code, 2: string message }

function varint (out: number[], n: number): void {
  while (n > 0x7f) {
    out.push((n % 128) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
}

function lenField (out: number[], field: number, bytes: ArrayLike<number>): void {
  out.push((field << 3) | 2)
  varint(out, bytes.length)
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!)
}

function varintField (out: number[], field: number, n: number): void {
  out.push(field << 3)
  varint(out, n)
}

/** 200's body. Empty (no partial_success) when every record was kept. */
export function exportResponse (json: boolean, rejected: number, errorMessage: string): Buffer | string {
  if (json) {
    return rejected === 0 ? '{}' : JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected), errorMessage } })
  }
  if (rejected === 0) return Buffer.alloc(0)
  const partial: number[] = []
  varintField(partial, 1, rejected)
  lenField(partial, 2, Buffer.from(errorMessage, 'utf8'))
  const out: number[] = []
  lenField(out, 1, partial)
  return Buffer.from(out)
}

/** The gRPC status code that goes with an HTTP status, as the OTLP/HTTP specification pairs them. */
export function grpcCode (status: number): number {
  switch (status) {
    case 400: case 413: case 415: return 3 // INVALID_ARGUMENT
    case 401: return 16 // UNAUTHENTICATED
    case 403: return 7 // PERMISSION_DENIED
    case 429: return 8 // RESOURCE_EXHAUSTED
    default: return 14 // UNAVAILABLE
  }
}

/** An error's body: google.rpc.Status. */
export function statusBody (json: boolean, status: number, message: string): Buffer | string {
  const code = grpcCode(status)
  if (json) return JSON.stringify({ code, message })
  const out: number[] = []
  varintField(out, 1, code)
  lenField(out, 2, Buffer.from(message, 'utf8'))
  return Buffer.from(out)
}
