// Signs with the real sigstore-js library (`sigstore.sign` / `sigstore.attest`) against a private instance
// (Fulcio + Rekor v1 + TSA). Used by tests/serve_interop.rs; adapted from the reference drivers described
// in INTEROP.md §3.4.
// Usage: SSJS_DIR=<folder with node_modules/sigstore> node js-sign.js sign|attest ARTIFACT OUT_BUNDLE
// env: SIGSTORE_ID_TOKEN FULCIO_URL REKOR_URL [TSA_URL] [PAYLOAD_TYPE]
'use strict';
const path = require('path');
const fs = require('fs');
const sigstore = require(path.join(process.env.SSJS_DIR, 'node_modules', 'sigstore'));
const [mode, artifact, out] = process.argv.slice(2);
const opts = {
  fulcioURL: process.env.FULCIO_URL,
  rekorURL: process.env.REKOR_URL,
  tsaServerURL: process.env.TSA_URL || undefined,
  identityToken: process.env.SIGSTORE_ID_TOKEN,
  tlogUpload: Boolean(process.env.REKOR_URL),
};
const data = fs.readFileSync(artifact);
const p = mode === 'attest'
  ? sigstore.attest(data, process.env.PAYLOAD_TYPE || 'application/vnd.in-toto+json', opts)
  : sigstore.sign(data, opts);
p.then((b) => { fs.writeFileSync(out, JSON.stringify(b)); console.error('wrote', out); })
  .catch((e) => { console.error('FAIL', e.code || '', e.message, e.cause ? String(e.cause) : ''); process.exit(1); });
