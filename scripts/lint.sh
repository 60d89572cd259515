#!/usr/bin/env bash
# clang-tidy 14 (checks in .clang-tidy) over our sources, in parallel, through a build's
# compile_commands.json. Every finding fails the run. The builds of the test passes are unity
# builds (their database names the merged files), so by default this configures build/lint
# (`cmake --preset lint`: clang 14, one command per source file) and compiles nothing there.
#
#   scripts/lint.sh                   every source file of the tree
#   scripts/lint.sh --changed [BASE]  the sources changed against BASE (default main), committed
#                                     or not; a changed header brings in its .cpp
#   scripts/lint.sh FILE...           these files
# Options:
#   --build-dir DIR     the compile database to use (default: build/lint, configured with its
#                       preset when missing); it must not be a unity build's
#   -j N                parallel clang-tidy processes (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=""
jobs=$(nproc)
changed_base=""
files=()
while (($# > 0)); do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    --changed)
      changed_base=main
      if (($# > 1)) && [[ $2 != -* ]]; then changed_base=$2; shift; fi
      shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "lint.sh: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done

tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [[ -z $tidy ]]; then
  echo "lint.sh: clang-tidy not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi

if [[ -z $build_dir ]]; then
  build_dir=build/lint
  [[ -f $build_dir/compile_commands.json ]] || cmake --preset lint >/dev/null
fi
db=$build_dir/compile_commands.json
if [[ ! -f $db ]]; then
  echo "lint.sh: no $db (configure that build first)" >&2
  exit 2
fi
# A unity build's database lists only its merged files (under build/), so every source would
# look unknown and nothing would be linted: refuse it rather than pass without linting.
if grep -q '"file": "[^"]*/Unity/unity_' "$db"; then
  echo "lint.sh: $db is a unity build's (use the default, build/lint)" >&2
  exit 2
fi
# The generated protobuf header is included everywhere: generate it (protoc only, no compile).
cmake --build "$build_dir" --target proto/confide/v1/confide.pb.h >/dev/null

# Sources the database knows (repository-relative), i.e. what this build compiles.
mapfile -t known < <(python3 - "$db" "$PWD" <<'EOF'
import json, os, sys
db, top = sys.argv[1], sys.argv[2]
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if f.startswith(top + "/") and "/build/" not in f[len(top):]:
        print(os.path.relpath(f, top))
EOF
)
declare -A in_db=()
for f in "${known[@]}"; do in_db[$f]=1; done

if [[ -n $changed_base ]]; then
  mapfile -t changed < <({ git diff --name-only "$changed_base"...HEAD; git diff --name-only HEAD; \
                           git ls-files --others --exclude-standard; } | sort -u)
  for f in "${changed[@]}"; do
    case $f in
      *.cpp) files+=("$f") ;;
      *.hpp|*.h) [[ -f ${f%.*}.cpp ]] && files+=("${f%.*}.cpp") ;;
    esac
  done
elif ((${#files[@]} == 0)); then
  files=("${known[@]}")
fi

targets=()
for f in $(printf '%s\n' "${files[@]}" | sort -u); do
  [[ -f $f && -n ${in_db[$f]:-} ]] && targets+=("$f")
done
if ((${#targets[@]} == 0)); then
  echo "lint.sh: nothing to lint"
  exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
echo "lint.sh: clang-tidy on ${#targets[@]} file(s), $jobs at a time ($db)"
# clang-tidy's exit status is not used: the findings in its output decide (see below).
printf '%s\n' "${targets[@]}" |
  xargs -P "$jobs" -I{} sh -c '"$1" -p "$2" --quiet --extra-arg=-Wno-unknown-warning-option "$3" \
      >"$4/$(echo "$3" | tr / _).log" 2>&1 || true' _ "$tidy" "$build_dir" {} "$out"

# One report per finding (a header's finding shows up once per file that includes it).
status=0
python3 - "$out" "$PWD" <<'EOF' || status=$?
import collections, glob, os, re, sys
out, top = sys.argv[1], sys.argv[2]
head = re.compile(r"^(/[^:]+):(\d+):(\d+): (warning|error): (.*?)(?: \[([^\]]+)\])?$")
seen, kept = set(), []
for log in sorted(glob.glob(os.path.join(out, "*.log"))):
    block = None
    for line in open(log, errors="replace"):
        line = line.rstrip("\n")
        m = head.match(line)
        if m:
            path = os.path.relpath(os.path.normpath(m.group(1)), top)
            check = m.group(6) or "clang-diagnostic-error"
            key = (path, m.group(2), m.group(3), check)
            block = None
            if key in seen or path.startswith("..") or "/build/" in "/" + path:
                continue
            seen.add(key)
            block = [line]
            kept.append((path, check, block))
        elif block is not None and not re.match(r"^\d+ warnings? (and \d+ errors? )?generated", line) \
                and not line.startswith(("Suppressed ", "Use -header-filter", "Error while processing")):
            block.append(line)
for _, _, block in kept:
    print("\n".join(block))
if kept:
    print("\nper check:")
    for check, n in collections.Counter(c for _, c, _ in kept).most_common():
        print(f"  {n:4d}  {check}")
    print(f"lint.sh: {len(kept)} finding(s)", file=sys.stderr)
    sys.exit(1)
EOF
summary="${#targets[@]} file(s), $(($(date +%s) - start)) s"
if ((status == 0)); then
  echo "lint.sh: clean ($summary)"
else
  echo "lint.sh: FAILED ($summary)" >&2
fi
exit $status
