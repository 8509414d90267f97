// Signs with the real sigstore-js libraries, taking the signing config from a TUF repository with sigstore-js's
// own TUF client (@sigstore/tuf `initTUF` + `getTarget('signing_config.v0.2.json')`), then
// @sigstore/sign's bundleBuilderFromSigningConfig. Used by tests/rotation_drill.rs.
// Usage: SSJS_DIR=<folder with node_modules/sigstore> SIGSTORE_ID_TOKEN=<jwt> \
//          node js-sign-tuf.js MIRROR ROOT CACHE ARTIFACT OUT_BUNDLE
'use strict';
const path = require('path');
const fs = require('fs');
const sigDir = path.join(process.env.SSJS_DIR, 'node_modules', 'sigstore');
const r = (m, from) => require(require.resolve(m, { paths: [from] }));
const tuf = r('@sigstore/tuf', sigDir);
const sign = r('@sigstore/sign', sigDir);
const signPkgDir = path.dirname(require.resolve('@sigstore/sign/package.json', { paths: [sigDir] }));
const { SigningConfig } = r('@sigstore/protobuf-specs', signPkgDir);
const { bundleToJSON } = r('@sigstore/bundle', sigDir);
const [mirror, root, cache, artifact, out] = process.argv.slice(2);
const token = process.env.SIGSTORE_ID_TOKEN;
(async () => {
  const client = await tuf.initTUF({ mirrorURL: mirror, rootPath: root, cachePath: cache });
  const config = JSON.parse(await client.getTarget('signing_config.v0.2.json'));
  const builder = sign.bundleBuilderFromSigningConfig({
    signingConfig: SigningConfig.fromJSON(config),
    identityProvider: { getToken: async () => token },
    bundleType: 'messageSignature',
  });
  const b = await builder.create({ data: fs.readFileSync(artifact) });
  fs.writeFileSync(out, JSON.stringify(bundleToJSON(b)));
  console.error('wrote', out);
})().catch((e) => { console.error('FAIL', e.code || '', e.message, e.cause ? String(e.cause) : ''); process.exit(1); });
