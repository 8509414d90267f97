// Resubmits the hashedrekord entry of a sigstore-js Rekor v1 bundle through sigstore-js's own RekorWitness
// (@sigstore/sign, as resolved from the installed `sigstore` package), once with fetchOnConflict off (the
// default of `sigstore.sign()`: the 409 must surface as TLOG_CREATE_ENTRY_ERROR) and once with it on (what
// @sigstore/sign 5.x does by default in bundleBuilderFromSigningConfig and @sigstore/cli 0.10.x: the client
// reads the UUID from the 409's Location, GETs the entry and must get the original back).
// Usage: SSJS_DIR=.interop/js node js-conflict.js REKOR_URL BUNDLE [OUT]
// OUT: the bundle again, with the entry the client fetched on conflict in place of the original one.
// Prints one JSON object on stdout; exits 1 with the reason on failure.
const path = require('path');
const fs = require('fs');
const dir = process.env.SSJS_DIR || '.interop/js';
const sigDir = path.join(dir, 'node_modules', 'sigstore');
const r = (m, from) => require(require.resolve(m, { paths: [from] }));
const { RekorWitness } = r('@sigstore/sign', sigDir);
const { bundleFromJSON, bundleToJSON } = r('@sigstore/bundle', sigDir);
const signVersion = r('@sigstore/sign/package.json', sigDir).version;
const [rekorURL, bundlePath, outPath] = process.argv.slice(2);

const fail = (msg) => { console.error('FAIL', msg); process.exit(1); };

async function main() {
  const bundle = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  const original = bundle.verificationMaterial.tlogEntries[0];
  const body = JSON.parse(Buffer.from(original.canonicalizedBody, 'base64').toString('utf8'));
  if (body.kind !== 'hashedrekord') fail(`expected a hashedrekord entry, got ${body.kind}`);
  // The same content and key the signer submitted, taken from the stored entry.
  const content = {
    $case: 'messageSignature',
    messageSignature: {
      messageDigest: { algorithm: 1, digest: Buffer.from(body.spec.data.hash.value, 'hex') },
      signature: Buffer.from(body.spec.signature.content, 'base64'),
    },
  };
  const publicKey = Buffer.from(body.spec.signature.publicKey.content, 'base64').toString('utf8');
  const out = { client: `@sigstore/sign ${signVersion}` };

  try {
    await new RekorWitness({ rekorBaseURL: rekorURL, fetchOnConflict: false }).testify(content, publicKey);
    fail('an identical resubmission was accepted again');
  } catch (e) {
    const status = e.cause && e.cause.statusCode;
    if (e.code !== 'TLOG_CREATE_ENTRY_ERROR' || status !== 409) fail(`unexpected error: ${e.code} ${status} ${e.message}`);
    out.without_fetch = `${e.code}: ${e.message}: ${e.cause.message}`;
  }

  const { tlogEntries } = await new RekorWitness({ rekorBaseURL: rekorURL, fetchOnConflict: true })
    .testify(content, publicKey);
  const fetched = tlogEntries[0];
  // protobuf JSON leaves out a zero logIndex
  const originalIndex = original.logIndex || '0';
  if (fetched.logIndex !== originalIndex) fail(`fetched index ${fetched.logIndex}, original ${originalIndex}`);
  if (fetched.canonicalizedBody.toString('base64') !== original.canonicalizedBody) fail('fetched body differs');
  if (!fetched.inclusionProof || !fetched.inclusionProof.checkpoint) fail('fetched entry has no inclusion proof');
  out.with_fetch = { logIndex: fetched.logIndex, treeSize: fetched.inclusionProof.treeSize };
  if (outPath) {
    const b = bundleFromJSON(bundle);
    b.verificationMaterial.tlogEntries[0] = fetched;
    fs.writeFileSync(outPath, JSON.stringify(bundleToJSON(b)));
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => fail(`${e.code || ''} ${e.message} ${e.cause ? String(e.cause) : ''}`));
