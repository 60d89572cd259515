// Generates the protobuf code (src/gen/) from proto/ with protoc (Debian's protobuf-compiler)
// and protoc-gen-es from node_modules. The generated code is not committed.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(web, "src", "gen");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
try {
  execFileSync(
    "protoc",
    [
      `--plugin=protoc-gen-es=${join(web, "node_modules", ".bin", "protoc-gen-es")}`,
      `--es_out=${out}`,
      "--es_opt=target=ts",
      `--proto_path=${join(web, "..", "..", "proto")}`,
      "confide/v1/confide.proto",
    ],
    { stdio: "inherit" },
  );
} catch (e) {
  console.error(
    "generate: protoc failed (is protobuf-compiler installed? scripts/install-deps.sh; " +
      "node_modules? npm ci)",
  );
  process.exit(1);
}
