/** Writes cert.pem and key.pem for localhost / 127.0.0.1 to a new temp dir; returns their paths. */
export function selfSignedCertificate (): { cert: string, key: string }
