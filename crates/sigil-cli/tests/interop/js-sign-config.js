// Signs through a signing config with @sigstore/sign's bundleBuilderFromSigningConfig, the only sigstore-js
// path to Rekor v2 (it picks the service with the most recent validFor start, not the highest version).
// Used by tests/serve_interop.rs.
// Usage: SSJS_DIR=<folder with node_modules/sigstore> SIGSTORE_ID_TOKEN=<jwt> \
//          node js-sign-config.js SIGNING_CONFIG sign|attest ARTIFACT OUT_BUNDLE
'use strict';
const path = require('path');
const fs = require('fs');
const sigDir = path.join(process.env.SSJS_DIR, 'node_modules', 'sigstore');
const r = (m, from) => require(require.resolve(m, { paths: [from] }));
const sign = r('@sigstore/sign', sigDir);
const signPkgDir = path.dirname(require.resolve('@sigstore/sign/package.json', { paths: [sigDir] }));
const { SigningConfig } = r('@sigstore/protobuf-specs', signPkgDir);
const { bundleToJSON } = r('@sigstore/bundle', sigDir);
const [scPath, mode, artifact, out] = process.argv.slice(2);
const signingConfig = SigningConfig.fromJSON(JSON.parse(fs.readFileSync(scPath, 'utf8')));
const token = process.env.SIGSTORE_ID_TOKEN;
const builder = sign.bundleBuilderFromSigningConfig({
  signingConfig,
  identityProvider: { getToken: async () => token },
  bundleType: mode === 'attest' ? 'dsseEnvelope' : 'messageSignature',
});
const data = fs.readFileSync(artifact);
builder.create(mode === 'attest' ? { data, type: 'application/vnd.in-toto+json' } : { data })
  .then((b) => { fs.writeFileSync(out, JSON.stringify(bundleToJSON(b))); console.error('wrote', out); })
  .catch((e) => { console.error('FAIL', e.code || '', e.message, e.cause ? String(e.cause) : ''); process.exit(1); });
