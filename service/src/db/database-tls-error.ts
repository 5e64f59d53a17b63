// Restates a failed TLS verification to the database with the setting that fixes it, for operators.
// Apart from the trust store itself (database-tls.ts), so the server's entry chunk never loads the CAs.

/** OpenSSL's verdicts for a chain that ends in no CA we trust (Node puts them in `error.code`). */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);
const HOST_MISMATCH_CODE = 'ERR_TLS_CERT_ALTNAME_INVALID';

export class DatabaseTlsError extends Error {
  override readonly name = 'DatabaseTlsError';
}

/**
 * A TLS verification failure anywhere in the error's cause chain, restated with the setting that fixes
 * it; undefined for any other error. Node's messages name hosts and certificate names, never credentials;
 * the original error is left out because it drags the whole peer certificate into the log.
 */
export function explainDatabaseTlsError(error: unknown): DatabaseTlsError | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const { code } = current as Error & { code?: unknown };
    if (typeof code === 'string' && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
      return new DatabaseTlsError(
        `TLS to the database failed: its certificate is not trusted (${code}: ${current.message}). ` +
          'DATABASE_SSL trusts the public roots and the Amazon RDS CAs; for a database with a private CA ' +
          'set DATABASE_CA_FILE to a PEM file holding that CA.',
      );
    }
    if (code === HOST_MISMATCH_CODE) {
      return new DatabaseTlsError(
        `TLS to the database failed: its certificate does not name the host connected to (${code}: ${current.message}). ` +
          'DATABASE_SSL always verifies the host name: connect by a name the certificate carries ' +
          '(the host in DATABASE_URL or in the secret), or give the database a certificate for that host.',
      );
    }
    current = current.cause;
  }
  return undefined;
}
