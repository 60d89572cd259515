// Builds the web client into dist/: index.html, and under assets/ the script and the style
// sheet with a content hash in their names (the server caches /assets/ for a year as
// immutable; index.html is revalidated on every load).
//
//   node scripts/build.mjs            the app (generates the protobuf code first)
//   node scripts/build.mjs --tests    also the unit tests, for node --test, into dist-tests/
import * as esbuild from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(web, "src");
const dist = join(web, "dist");

execFileSync(process.execPath, [join(web, "scripts", "generate.mjs")], { stdio: "inherit" });

// Message text is put in the page as text only. These APIs parse HTML; none may appear in the
// app's own code.
const htmlSinks = /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(/;
for (const file of readdirSync(src)) {
  if (file.endsWith(".ts") && !file.endsWith(".test.ts")) {
    const lines = readFileSync(join(src, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (htmlSinks.test(line)) {
        console.error(`build: src/${file}:${i + 1} uses an HTML sink: render text with textContent`);
        process.exit(1);
      }
    });
  }
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });
const result = await esbuild.build({
  entryPoints: { app: join(src, "main.ts"), style: join(web, "static", "app.css") },
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((p) => "/" + relative(dist, join(process.cwd(), p)));
const js = outputs.find((p) => basename(p).startsWith("app-") && p.endsWith(".js"));
const css = outputs.find((p) => p.endsWith(".css"));
if (!js || !css) {
  console.error(`build: unexpected outputs ${outputs.join(", ")}`);
  process.exit(1);
}
const html = readFileSync(join(web, "static", "index.html"), "utf8")
  .replace("%APP_JS%", js)
  .replace("%APP_CSS%", css);
writeFileSync(join(dist, "index.html"), html);
console.log(`build: dist/index.html, ${js.slice(1)}, ${css.slice(1)}`);

if (process.argv.includes("--tests")) {
  const tests = readdirSync(src).filter((f) => f.endsWith(".test.ts"));
  const out = join(web, "dist-tests");
  rmSync(out, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: tests.map((t) => join(src, t)),
    outdir: out,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    logLevel: "warning",
  });
}
