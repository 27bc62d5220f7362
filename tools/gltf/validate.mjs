// Validate glTF/GLB files with the Khronos glTF-Validator (offline, npm gltf-validator pinned in package.json).
// Usage: node validate.mjs FILE...  Prints one JSON report per file (one line each) on stdout;
// exit code 0 when no file has an error, 1 when some file has errors, 2 on bad usage or unreadable files.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import validator from "gltf-validator";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.glb [FILE.glb ...]");
  process.exit(2);
}
let failed = false;
for (const file of files) {
  let bytes;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (err) {
    console.error(`cannot read ${file}: ${err.message}`);
    process.exit(2);
  }
  // maxIssues 0 = report every issue; external resources are refused (our files are self-contained).
  const report = await validator.validateBytes(bytes, {
    uri: basename(file),
    maxIssues: 0,
    externalResourceFunction: (uri) => Promise.reject(new Error(`external resource ${uri} not allowed`)),
  });
  console.log(JSON.stringify(report));
  if (report.issues.numErrors > 0) failed = true;
}
process.exit(failed ? 1 : 0);
