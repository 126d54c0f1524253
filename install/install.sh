#!/bin/sh
# cronplane agent installer for Linux hosts (README.md, "Adding a host"):
#
#   curl -fsSL https://<control-plane>/install.sh | sudo sh -s -- --token <agent-token>
#
# Installs the agent, or upgrades it in place when run again, or with --uninstall removes it.
# Everything runs from main(), called on the last line, so a download cut short runs nothing.
set -eu

USAGE='usage: install.sh [--token TOKEN] [--labels k=v,...] [--run-as USER] [--node PATH]
                  [--arch amd64|arm64] [--url URL] [--root DIR] [--no-systemd]
       install.sh --uninstall [--force] [--root DIR] [--no-systemd]

  --token TOKEN   the agent token (or CRONPLANE_AGENT_TOKEN); an upgrade keeps the installed one
  --labels k=v,.. labels jobs can select this host by; an upgrade keeps the installed ones
                  unless given (--labels "" removes them)
  --run-as USER   run the agent, and so every job, as USER instead of the system user cronplane
  --node PATH     the Node.js (>= 20.19) to run the agent with; default: node on PATH
  --arch ARCH     the launcher to install, amd64 or arm64; default: from uname -m
  --url URL       the control plane; default: the one this script was downloaded from
  --root DIR      write every file under DIR instead of /, as for a package (for tests and
                  packaging): no user is created, nothing is chowned, systemd is left alone,
                  and the files name their final paths (/etc/cronplane/...), not DIR
  --no-systemd    write the unit file but do not run systemctl
  --uninstall     stop the agent and remove all it installed (run logs in MongoDB stay)
  --force         uninstall even if run logs not yet written to MongoDB would be lost'

# Filled in by the control plane when it serves this script.
DEFAULT_URL='@CRONPLANE_URL@'
# package.json "engines".
MIN_NODE_MAJOR=20
MIN_NODE_MINOR=19

SERVICE=cronplane-agent
SYSTEM_USER=cronplane
ETC_DIR=/etc/cronplane
CONFIG=$ETC_DIR/agent.json
STATE_DIR=/var/lib/cronplane
OPT_DIR=/opt/cronplane
BUNDLE=$OPT_DIR/cronplane-agent.cjs
# Where the agent looks for it: beside its own script (agent/executor-selection.ts).
LAUNCHER=$OPT_DIR/cronplane-launcher
UNIT=/etc/systemd/system/$SERVICE.service

say() { printf 'cronplane: %s\n' "$*"; }
die() {
  printf 'cronplane: error: %s\n' "$*" >&2
  exit 1
}

# Prints an option's value, or fails when it has none.
value() {
  [ $# -ge 2 ] || die "$1 needs a value"
  printf '%s' "$2"
}

parse_args() {
  token=${CRONPLANE_AGENT_TOKEN:-}
  labels=
  labels_given=
  run_as=
  node_bin=
  launcher_arch=
  url=
  root=
  no_systemd=
  uninstall=
  force=
  while [ $# -gt 0 ]; do
    opt=$1
    shift
    case $opt in
      --*=*)
        set -- "${opt#*=}" "$@"
        opt=${opt%%=*}
        ;;
    esac
    case $opt in
      --token)
        token=$(value "$opt" "$@")
        shift
        ;;
      --labels)
        labels=$(value "$opt" "$@")
        labels_given=1
        shift
        ;;
      --run-as)
        run_as=$(value "$opt" "$@")
        shift
        ;;
      --node)
        node_bin=$(value "$opt" "$@")
        shift
        ;;
      --arch)
        launcher_arch=$(value "$opt" "$@")
        shift
        ;;
      --url)
        url=$(value "$opt" "$@")
        shift
        ;;
      --root)
        root=$(value "$opt" "$@")
        shift
        ;;
      --no-systemd) no_systemd=1 ;;
      --uninstall) uninstall=1 ;;
      --force) force=1 ;;
      -h | --help)
        printf '%s\n' "$USAGE"
        exit 0
        ;;
      *) die "unknown option $opt (see --help)" ;;
    esac
  done
  if [ -n "$root" ]; then
    case $root in
      /*) root=${root%/} ;;
      *) die "--root needs an absolute path" ;;
    esac
    [ -n "$root" ] || die "--root / is the default; leave it out"
  fi
}

# systemctl is run only on a host booted with systemd, and never for --root or --no-systemd.
use_systemd() {
  [ -z "$root" ] && [ -z "$no_systemd" ] && [ -d /run/systemd/system ]
}

check_host() {
  os=$(uname -s)
  arch=$(uname -m)
  [ "$os" = Linux ] || die "the agent runs on Linux; this is $os"
  if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
    die "run as root (curl ... | sudo sh -s -- ...), or use --root DIR"
  fi
}

# The launcher's architecture, in Go's names: this machine's, unless --arch names one.
pick_arch() {
  case $arch in
    x86_64) host_arch=amd64 ;;
    aarch64 | arm64) host_arch=arm64 ;;
    *) host_arch= ;;
  esac
  if [ -n "$launcher_arch" ]; then
    case $launcher_arch in
      amd64 | arm64) ;;
      *) die "--arch must be amd64 or arm64, not $launcher_arch" ;;
    esac
  else
    [ -n "$host_arch" ] ||
      die "this machine is $arch; the agent's launcher is built for x86_64 (amd64) and aarch64 (arm64) only"
    launcher_arch=$host_arch
  fi
}

find_node() {
  node_given=$node_bin
  [ -n "$node_bin" ] || node_bin=$(command -v node || true)
  [ -n "$node_bin" ] ||
    die "Node.js >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR is required and there is no node on PATH (or pass --node PATH)"
  case $node_bin in
    /*) ;;
    *) die "--node needs an absolute path" ;;
  esac
  case $node_bin in
    *[!A-Za-z0-9._/+-]*) die "the node path $node_bin has characters a unit file would misread" ;;
  esac
  node_version=$("$node_bin" -p process.versions.node 2>/dev/null) || die "$node_bin does not run"
  major=${node_version%%.*}
  minor=${node_version#*.}
  minor=${minor%%.*}
  if [ "$major" -lt "$MIN_NODE_MAJOR" ] ||
    { [ "$major" -eq "$MIN_NODE_MAJOR" ] && [ "$minor" -lt "$MIN_NODE_MINOR" ]; }; then
    die "Node.js >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR is required; $node_bin is $node_version"
  fi
  # The service user cannot reach a node installed under a home directory (nvm, fnm, ...).
  if [ -z "$root" ] && [ -z "$node_given" ]; then
    case $(readlink -f "$node_bin") in
      /root/* | /home/*)
        die "$node_bin lives in a home directory the agent's user cannot use; install Node.js system-wide or pass --node PATH"
        ;;
    esac
  fi
}

# JSON is read and written by node, which the host needs anyway: sh has no safe JSON parser.
# Prints the string at a dotted path of a JSON file; fails if there is none.
json_get() {
  "$node_bin" -e '
    const [file, path] = process.argv.slice(1);
    let v = JSON.parse(require("fs").readFileSync(file, "utf8"));
    for (const key of path.split(".")) v = v == null ? undefined : v[key];
    if (typeof v !== "string") process.exit(1);
    process.stdout.write(v);
  ' "$1" "$2"
}

sha256_of() {
  "$node_bin" -e '
    const hash = require("crypto").createHash("sha256");
    process.stdout.write(hash.update(require("fs").readFileSync(process.argv[1])).digest("hex"));
  ' "$1"
}

# Runs the agent bundle as the user the service will run as, so the check also proves that
# user can run node, read the bundle and read the config.
as_service_user() {
  if [ -n "$root" ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u "$service_user" -- "$@"
  else
    # busybox su: the words after -c CMD become $0, $1, ... of CMD.
    # shellcheck disable=SC2016
    su -s /bin/sh "$service_user" -c '"$0" "$@"' "$@"
  fi
}

resolve_settings() {
  [ -n "$url" ] || url=$DEFAULT_URL
  case $url in
    @*) die "pass --url https://<control-plane> (this copy was not downloaded from one)" ;;
    https://*) ;;
    http://127.* | http://localhost* | http://\[::1\]*) ;;
    http://*) say "warning: $url is plain http: the token and database settings travel unencrypted" ;;
    *) die "--url must be an http(s) URL" ;;
  esac
  url=${url%/}

  # Upgrading: the token, labels (write_config) and user the host has stay unless given.
  if [ -z "$token" ] && [ -f "$root$CONFIG" ]; then
    token=$(json_get "$root$CONFIG" agentToken || true)
  fi
  if [ -z "$run_as" ] && [ -f "$root$UNIT" ]; then
    run_as=$(sed -n 's/^User=//p' "$root$UNIT")
    [ "$run_as" != "$SYSTEM_USER" ] || run_as=
  fi
  service_user=${run_as:-$SYSTEM_USER}
  previous_version=
  if [ -f "$root$BUNDLE" ]; then
    previous_version=$("$node_bin" "$root$BUNDLE" --version 2>/dev/null || true)
  fi

  [ -n "$token" ] || die "--token is required (an agent token of the control plane)"
  case $token in
    *[!A-Za-z0-9._~+/=-]*) die "the token has characters no token has" ;;
  esac
  case $service_user in
    *[!A-Za-z0-9._-]* | -*) die "--run-as needs a user name" ;;
  esac
  if [ -n "$run_as" ] && [ -z "$root" ] && ! id -u "$run_as" >/dev/null 2>&1; then
    die "user $run_as (--run-as) does not exist"
  fi
}

fetch_bootstrap() {
  # The token reaches curl on stdin, never on a command line `ps` can show.
  status=$(printf 'header = "Authorization: Bearer %s"\n' "$token" |
    curl -sS -K - -o "$tmp/bootstrap.json" -w '%{http_code}' "$url/v1/agents/bootstrap") ||
    die "cannot reach the control plane at $url"
  if [ "$status" != 200 ]; then
    reason=$(json_get "$tmp/bootstrap.json" error 2>/dev/null || echo "HTTP $status")
    die "the control plane refused the bootstrap request ($status): $reason"
  fi
  version=$(json_get "$tmp/bootstrap.json" agent.version)
  bundle_url=$(json_get "$tmp/bootstrap.json" agent.url)
  sha256=$(json_get "$tmp/bootstrap.json" agent.sha256)
  check_sha256 "$sha256"
  # None when the control plane's agent was built before the launcher shipped with it.
  launcher_url=$(json_get "$tmp/bootstrap.json" "launchers.$launcher_arch.url" || true)
  launcher_sha256=
  if [ -n "$launcher_url" ]; then
    launcher_sha256=$(json_get "$tmp/bootstrap.json" "launchers.$launcher_arch.sha256" || true)
    check_sha256 "$launcher_sha256"
  fi
}

check_sha256() {
  case $1 in
    *[!0-9a-f]*) die "the control plane sent a malformed sha256" ;;
  esac
  [ ${#1} -eq 64 ] || die "the control plane sent a malformed sha256"
}

fetch_bundle() {
  curl -fsSL -o "$tmp/bundle.cjs" "$bundle_url" || die "cannot download the agent from $bundle_url"
  actual=$(sha256_of "$tmp/bundle.cjs")
  if [ "$actual" != "$sha256" ]; then
    die "the agent bundle's sha256 is $actual, the control plane announced $sha256: refusing to install it"
  fi
}

fetch_launcher() {
  [ -n "$launcher_url" ] || return 0
  curl -fsSL -o "$tmp/launcher" "$launcher_url" ||
    die "cannot download the launcher from $launcher_url"
  actual=$(sha256_of "$tmp/launcher")
  if [ "$actual" != "$launcher_sha256" ]; then
    die "the launcher's sha256 is $actual, the control plane announced $launcher_sha256: refusing to install it"
  fi
}

# The service user's config: the host's earlier settings, then the control plane's connection
# settings, then this command line's token and labels.
write_config() {
  CRONPLANE_TOKEN=$token CRONPLANE_LABELS=$labels CRONPLANE_LABELS_GIVEN=$labels_given \
    "$node_bin" -e '
    const fs = require("fs");
    const [bootstrapFile, oldFile, outFile, shell] = process.argv.slice(1);
    const b = JSON.parse(fs.readFileSync(bootstrapFile, "utf8"));
    const old = fs.existsSync(oldFile) ? JSON.parse(fs.readFileSync(oldFile, "utf8")) : {};
    const config = {
      ...old,
      etcdEndpoints: b.etcdEndpoints,
      mongoUrl: b.mongoUrl,
      database: b.database,
      prefix: b.prefix,
      controlPlaneUrl: b.controlPlaneUrl,
      agentToken: process.env.CRONPLANE_TOKEN,
    };
    // As given ("k=v,k2=v2"): the agent parses and checks them (--check-config below).
    if (process.env.CRONPLANE_LABELS_GIVEN) config.labels = process.env.CRONPLANE_LABELS;
    if (config.labels === "") delete config.labels;
    if (shell && config.shell === undefined) config.shell = shell;
    fs.writeFileSync(outFile, JSON.stringify(config, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  ' "$tmp/bootstrap.json" "$root$CONFIG" "$1" "$default_shell"
}

ensure_user() {
  created_user=
  if [ -n "$root" ]; then return; fi
  if id -u "$service_user" >/dev/null 2>&1; then return; fi
  nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/sbin/nologin
  [ -x "$nologin" ] || nologin=/bin/false
  if command -v useradd >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
      --shell "$nologin" --comment "cronplane agent" "$SYSTEM_USER"
  else
    addgroup -S "$SYSTEM_USER"
    adduser -S -D -H -h "$STATE_DIR" -s "$nologin" -G "$SYSTEM_USER" "$SYSTEM_USER"
  fi
  created_user=1
}

home_of() {
  if command -v getent >/dev/null 2>&1; then
    getent passwd "$1" | cut -d: -f6
  else
    awk -F: -v user="$1" '$1 == user { print $6 }' /etc/passwd
  fi
}

# Jobs are the agent's children and inherit every line below: README "Adding a host" lists
# what that means for them and how to relax it with a drop-in (systemctl edit cronplane-agent).
write_unit() {
  writable=
  if [ -n "$run_as" ] && [ -z "$root" ]; then
    home=$(home_of "$service_user")
    [ -z "$home" ] || writable="ReadWritePaths=-$home"
  fi
  {
    cat <<EOF
# Written by the cronplane installer, rewritten on every upgrade: put local changes in a
# drop-in (systemctl edit $SERVICE).
[Unit]
Description=cronplane agent (distributed crontab)
Documentation=$url
Wants=network-online.target
After=network-online.target

[Service]
User=$service_user
# A 1 MiB young generation (V8's default grows to 16 MiB per semi-space and keeps it) holds an
# agent with 10,000 jobs near 100 MiB instead of 180-200 MiB; see bench/README.md, figure 7.
ExecStart=$node_bin --max-semi-space-size=1 $BUNDLE --config $CONFIG
Restart=always
RestartSec=2
# On SIGTERM the agent stops claiming and lets runs finish for shutdownGraceMs (30 s): only
# the agent gets the signal (its jobs share its cgroup), and systemd waits past that grace.
KillMode=mixed
TimeoutStopSec=45
# /var/lib/cronplane: created, owned by User= and writable despite ProtectSystem=strict.
StateDirectory=cronplane
StateDirectoryMode=0700
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
EOF
    # --run-as: jobs may keep their files in that user's home.
    [ -z "$writable" ] || printf '%s\n' "$writable"
    printf '\n[Install]\nWantedBy=multi-user.target\n'
  } >"$1"
}

install_agent() {
  for tool in curl mktemp; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
  done
  resolve_settings
  fetch_bootstrap
  fetch_bundle
  fetch_launcher
  default_shell=
  [ -x /bin/bash ] || default_shell=/bin/sh
  ensure_user

  mkdir -p "$root$ETC_DIR" "$root$OPT_DIR" "$root$STATE_DIR"
  chmod 755 "$root$OPT_DIR"
  chmod 700 "$root$STATE_DIR"
  # New files go next to the ones they replace, are checked there, then renamed over them:
  # a failed upgrade leaves the running install as it was.
  new_bundle=$root$OPT_DIR/.cronplane-agent.cjs.new
  new_launcher=$root$OPT_DIR/.cronplane-launcher.new
  new_config=$root$ETC_DIR/.agent.json.new
  rm -f "$new_bundle" "$new_launcher" "$new_config"
  cp "$tmp/bundle.cjs" "$new_bundle"
  chmod 644 "$new_bundle"
  if [ -n "$launcher_url" ]; then
    cp "$tmp/launcher" "$new_launcher"
    chmod 755 "$new_launcher"
  fi
  write_config "$new_config"
  if [ -z "$root" ]; then
    chown "$service_user" "$new_config" "$root$STATE_DIR"
  fi
  if ! check=$(as_service_user "$node_bin" "$new_bundle" --check-config --config "$new_config" 2>&1); then
    rm -f "$new_bundle" "$new_launcher" "$new_config"
    die "the new agent refuses its configuration: $check"
  fi
  # With its stdin closed the launcher greets with its version and exits (launcher/README.md);
  # one built for another machine (--arch) cannot run here.
  if [ -n "$launcher_url" ] && [ "$launcher_arch" = "$host_arch" ]; then
    hello=$(as_service_user "$new_launcher" </dev/null 2>&1 || true)
    case $hello in
      *'"t":"hello"'*"\"version\":\"$version\""*) ;;
      *)
        rm -f "$new_bundle" "$new_launcher" "$new_config"
        die "the new launcher does not start as $service_user, or is not version $version: $hello"
        ;;
    esac
  fi
  # The launcher first: the bundle is what tells an installed version, so a run cut short
  # between the two is an upgrade still to do.
  if [ -n "$launcher_url" ]; then
    mv -f "$new_launcher" "$root$LAUNCHER"
  else
    rm -f "$root$LAUNCHER"
  fi
  mv -f "$new_bundle" "$root$BUNDLE"
  mv -f "$new_config" "$root$CONFIG"
  # A host without systemd (OpenRC, a container) gets no unit file to litter /etc with.
  if [ -n "$root" ] || [ -d /etc/systemd/system ]; then
    mkdir -p "$root${UNIT%/*}"
    write_unit "$tmp/unit"
    mv -f "$tmp/unit" "$root$UNIT"
    chmod 644 "$root$UNIT"
    service="$root$UNIT (user $service_user)"
  else
    service="no unit file: this host has no systemd"
  fi
  if use_systemd; then
    systemctl daemon-reload
    systemctl enable --quiet "$SERVICE"
    systemctl restart "$SERVICE"
    service="$service, enabled and (re)started"
  elif [ -z "$root" ] && [ -z "$no_systemd" ]; then
    service="$service, not started: systemd is not running"
  else
    service="$service, not started (--root/--no-systemd)"
  fi

  if [ -z "$previous_version" ]; then
    say "installed agent $version"
  elif [ "$previous_version" = "$version" ]; then
    say "reinstalled agent $version"
  else
    say "upgraded agent $previous_version -> $version"
  fi
  say "  host     $os $arch, node $node_version ($node_bin)"
  say "  bundle   $root$BUNDLE (sha256 $sha256 verified)"
  if [ -n "$launcher_url" ]; then
    say "  launcher $root$LAUNCHER (linux-$launcher_arch, sha256 $launcher_sha256 verified)"
  else
    say "  launcher none: the control plane offers none for linux-$launcher_arch (its agent was built without); runs start with Node, slower"
  fi
  if [ -n "$root" ]; then owner="not chowned: --root"; else owner="owner $service_user"; fi
  say "  config   $root$CONFIG (mode 600, $owner)"
  say "  state    $root$STATE_DIR"
  [ -z "$created_user" ] || say "  user     $SYSTEM_USER (created, a system user without login)"
  say "  service  $service"
  if use_systemd; then
    say "check it:  systemctl status $SERVICE; journalctl -u $SERVICE -f"
  elif [ -n "$root" ]; then
    # The config names the final paths: point the state at the root too.
    say "run it:    $node_bin $root$BUNDLE --config $root$CONFIG --state-dir $root$STATE_DIR"
  else
    say "run it:    $node_bin $BUNDLE --config $CONFIG (as $service_user)"
  fi
}

# The spill journal holds run logs MongoDB has not confirmed; the agent flushes it on a clean
# stop, so anything left means MongoDB was unreachable.
unsent_run_logs() {
  spill=$root$STATE_DIR/spill
  [ -d "$spill" ] || return 1
  [ -s "$spill/journal.jsonl" ] && return 0
  for file in "$spill"/replay-*.jsonl; do
    [ -e "$file" ] && return 0
  done
  return 1
}

uninstall_agent() {
  if use_systemd; then
    systemctl disable --now --quiet "$SERVICE" 2>/dev/null || true
  fi
  if [ -z "$force" ] && unsent_run_logs; then
    die "$root$STATE_DIR/spill holds run logs not yet written to MongoDB; start the agent again until they are sent (systemctl start $SERVICE), or re-run with --force to discard them"
  fi
  rm -rf "$root$ETC_DIR" "$root$STATE_DIR" "$root$OPT_DIR" "$root$UNIT"
  if use_systemd; then systemctl daemon-reload; fi
  removed_user=
  if [ -z "$root" ] && id -u "$SYSTEM_USER" >/dev/null 2>&1; then
    if command -v userdel >/dev/null 2>&1; then userdel "$SYSTEM_USER"; else deluser "$SYSTEM_USER"; fi
    removed_user=" and the user $SYSTEM_USER"
  fi
  if [ -n "$root" ]; then
    # Under --root this script created the parents too: remove those left empty.
    for dir in /etc/systemd/system /etc/systemd /etc /var/lib /var /opt; do
      rmdir "$root$dir" 2>/dev/null || true
    done
  fi
  say "removed the agent: $root$ETC_DIR, $root$STATE_DIR, $root$OPT_DIR, $root$UNIT$removed_user (run logs in MongoDB stay)"
}

main() {
  parse_args "$@"
  check_host
  if [ -n "$uninstall" ]; then
    uninstall_agent
    return
  fi
  find_node
  pick_arch
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT TERM
  install_agent
}

main "$@"
