// Builds the explorer bundle the node embeds (crates/node/explorer-dist/).
//
//   node build.mjs               type-check, bundle, write crates/node/explorer-dist/
//   node build.mjs --check       type-check, bundle in memory, fail if explorer-dist differs
//   node build.mjs --test-bundle bundle the verifier and the read-token signer for node --test
//
// esbuild output is deterministic for a given version and input, so the committed bundle
// can be compared byte for byte (cargo xtask ci runs --check).

import * as esbuild from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "crates", "node", "explorer-dist");
const mode = process.argv[2] ?? "--write";

function typecheck() {
  const tsc = join(here, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "--noEmit", "-p", here], { stdio: "inherit" });
}

async function bundle(entry, options = {}) {
  const result = await esbuild.build({
    entryPoints: [join(here, entry)],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    platform: "browser",
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
    ...options,
  });
  return result.outputFiles[0].text;
}

async function assets() {
  return {
    "index.html": readFileSync(join(here, "src", "index.html"), "utf8"),
    "app.css": readFileSync(join(here, "src", "style.css"), "utf8"),
    "app.js": await bundle("src/main.ts", { minify: true }),
  };
}

if (mode === "--test-bundle") {
  const out = join(here, ".build");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "verify.mjs"), await bundle("src/verify/index.ts"));
  writeFileSync(join(out, "auth.mjs"), await bundle("src/auth.ts"));
  console.log(`explorer: test bundles in ${out}`);
} else if (mode === "--check") {
  typecheck();
  const stale = [];
  for (const [name, text] of Object.entries(await assets())) {
    const path = join(dist, name);
    if (!existsSync(path) || readFileSync(path, "utf8") !== text) stale.push(name);
  }
  if (stale.length > 0) {
    console.error(
      `explorer: crates/node/explorer-dist is not the build of explorer/src (${stale.join(", ")}): run \`npm run build\` in explorer/ and commit it`,
    );
    process.exit(1);
  }
  console.log("explorer: committed bundle is current");
} else if (mode === "--write") {
  typecheck();
  mkdirSync(dist, { recursive: true });
  let total = 0;
  for (const [name, text] of Object.entries(await assets())) {
    writeFileSync(join(dist, name), text);
    total += Buffer.byteLength(text);
    console.log(`  ${name.padEnd(11)} ${Buffer.byteLength(text).toLocaleString("en-US")} bytes`);
  }
  console.log(`explorer: wrote ${dist} (${total.toLocaleString("en-US")} bytes)`);
} else {
  console.error("usage: node build.mjs [--check | --test-bundle]");
  process.exit(2);
}
