// Offline verification of a bundle against an explicit trusted_root.json with the real sigstore-js
// libraries, the way sigstore-js's own conformance client does it (toTrustMaterial + Verifier +
// bundleFromJSON + toSignedEntity). Exit 0 and "OK" on success, exit 1 and "FAIL …" otherwise.
// Used by tests/serve_interop.rs.
// Usage: SSJS_DIR=<folder with node_modules/sigstore> node js-verify.js TRUSTED_ROOT BUNDLE ARTIFACT SAN ISSUER
//   ARTIFACT is "-" for DSSE bundles (the payload is in the envelope).
'use strict';
const path = require('path');
const fs = require('fs');
const sigDir = path.join(process.env.SSJS_DIR, 'node_modules', 'sigstore');
const r = (m, from) => require(require.resolve(m, { paths: [from] }));
const verifyPkgDir = path.dirname(require.resolve('@sigstore/verify/package.json', { paths: [sigDir] }));
const { Verifier, toSignedEntity, toTrustMaterial } = r('@sigstore/verify', sigDir);
const { bundleFromJSON } = r('@sigstore/bundle', sigDir);
const { TrustedRoot } = r('@sigstore/protobuf-specs', verifyPkgDir);
const [trPath, bundlePath, artifactPath, san, issuer] = process.argv.slice(2);
try {
  const trustMaterial = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(trPath, 'utf8'))));
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const artifact = artifactPath && artifactPath !== '-' ? fs.readFileSync(artifactPath) : undefined;
  const policy = {};
  if (san) policy.subjectAlternativeName = san;
  if (issuer) policy.extensions = { issuer };
  new Verifier(trustMaterial).verify(toSignedEntity(bundle, artifact), policy);
  console.error('OK');
} catch (e) {
  console.error('FAIL', e.code || '', e.message, e.cause ? String(e.cause) : '');
  process.exit(1);
}
