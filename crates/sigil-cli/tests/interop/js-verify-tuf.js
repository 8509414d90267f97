// Verifies a bundle with the real sigstore-js library (`sigstore.verify`), its trust root fetched over TUF
// (online: tufMirrorURL, with the given bootstrap root and cache). Used by tests/tuf_interop.rs.
// Usage: SSJS_DIR=<folder with node_modules/sigstore> node js-verify-tuf.js MIRROR ROOT CACHE BUNDLE ARTIFACT|- EMAIL ISSUER
'use strict';
const path = require('path');
const fs = require('fs');
const sigstore = require(path.join(process.env.SSJS_DIR, 'node_modules', 'sigstore'));
const [mirror, root, cache, bundlePath, artifact, email, issuer] = process.argv.slice(2);
const bundle = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
const data = artifact === '-' ? undefined : fs.readFileSync(artifact);
sigstore
  .verify(bundle, data, {
    tufMirrorURL: mirror,
    tufRootPath: root,
    tufCachePath: cache,
    certificateIdentityEmail: email,
    certificateIssuer: issuer,
  })
  .then(() => console.log('OK'))
  .catch((e) => { console.error('FAIL', e.code || '', e.message, e.cause ? String(e.cause) : ''); process.exit(1); });
