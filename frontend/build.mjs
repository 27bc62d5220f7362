// Build the studio into dist/: the page's own files from src/ as they are, plus the few three.js files it
// imports, vendored from node_modules (no bundler, nothing from a CDN). The page's import map points the bare
// name "three" at vendor/three/build/three.module.js, which itself imports ./three.core.js; the add-ons import
// "three" and their own relative helpers, which are followed here so every file they need is copied.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const dist = join(here, "dist");
const three = join(here, "node_modules", "three");
// The add-ons the studio imports (paths under three/examples/jsm/).
const ADDONS = ["loaders/GLTFLoader.js", "controls/OrbitControls.js"];

if (!existsSync(join(three, "build", "three.module.js"))) {
  console.error("three.js is not installed: run `npm ci --prefix frontend` first");
  process.exit(2);
}
const version = JSON.parse(readFileSync(join(three, "package.json"), "utf8")).version;

rmSync(dist, { recursive: true, force: true });
cpSync(src, dist, { recursive: true });

const vendor = join(dist, "vendor", "three");
function copy(fromAbs) {
  const to = join(vendor, relative(three, fromAbs));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(fromAbs, to);
}
for (const name of ["three.module.js", "three.core.js"]) copy(join(three, "build", name));
copy(join(three, "LICENSE"));

// Copy each add-on and, transitively, the relative modules it imports.
const seen = new Set();
const pending = ADDONS.map((a) => join(three, "examples", "jsm", a));
const importRe = /(?:import|export)\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g;
while (pending.length) {
  const file = pending.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  copy(file);
  for (const m of readFileSync(file, "utf8").matchAll(importRe)) pending.push(resolve(dirname(file), m[1]));
}

writeFileSync(join(dist, "vendor", "VERSIONS.json"), JSON.stringify({ three: version }, null, 1) + "\n");
console.log(`studio built into ${relative(process.cwd(), dist) || "."}: three ${version}, ${seen.size} add-on files`);
