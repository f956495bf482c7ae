# shellcheck shell=bash
# Shared helpers for scripts/*: sourced, never run. Defines ROOT, DATA, the
# Debian package list and small functions (need_pkgs, need_npm, db_url, ...).
# Nothing here changes the caller's environment beyond these names.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DATA="$ROOT/.data"	# gitignored: private cluster, master key, URLs

# Debian packages for building, running and testing Passerelle. One list:
# add a package here and every script (and CI) installs it. The Dockerfile's
# build stage mirrors the build part of this list: keep the two in step.
PASSERELLE_DEB_PACKAGES=(
	# build
	build-essential cmake pkg-config git ca-certificates
	libmicrohttpd-dev libpq-dev libsodium-dev libjansson-dev
	libcurl4-openssl-dev libxlsxwriter-dev
	# unit tests (Check)
	check libsubunit-dev
	# database for running and integration tests
	postgresql postgresql-contrib
	# integration tests: throwaway TLS certificates
	openssl
	# sanitizers, fuzzers, load tests
	clang libclang-rt-14-dev wrk
	# browser tests
	nodejs npm chromium
)

# --- messages --------------------------------------------------------------

_script_name="$(basename "$0")"
say()  { printf '%s: %s\n' "$_script_name" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$_script_name" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$_script_name" "$*" >&2; exit 1; }

# header_help: prints the calling script's header comment (its --help).
header_help() {
	awk 'NR == 1 { next } /^# shellcheck/ || !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# True when the variable named by $1 holds something other than "", 0, false,
# no or off (e.g. truthy CI).
truthy() {
	local v="${!1:-}"
	case "${v,,}" in
	"" | 0 | false | no | off) return 1 ;;
	*) return 0 ;;
	esac
}

# --- Debian packages -------------------------------------------------------

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# need_pkgs [PKG...]: installs whichever of the packages (default: the whole
# list above) is missing, with a single apt-get update + install. Does not call
# apt at all when nothing is missing.
need_pkgs() {
	local pkgs=("$@") missing=() p
	[ "${#pkgs[@]}" -gt 0 ] || pkgs=("${PASSERELLE_DEB_PACKAGES[@]}")
	if ! command -v dpkg-query >/dev/null 2>&1; then
		warn "not a Debian system: install these yourself if missing: ${pkgs[*]}"
		return 0
	fi
	for p in "${pkgs[@]}"; do
		case "$p" in
		nodejs | npm)
			# Node.js may come from elsewhere than Debian (e.g. NodeSource,
			# whose nodejs bundles npm): then leave it alone.
			if command -v node >/dev/null 2>&1 &&
			    command -v npm >/dev/null 2>&1; then
				continue
			fi
			;;
		esac
		pkg_installed "$p" || missing+=("$p")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0

	local sudo=()
	if ! is_root; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			die "missing Debian packages and not root (no sudo either); as root run:
  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
		fi
	fi
	say "installing missing packages: ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends "${missing[@]}"
}

# need_npm: when ROOT has a package.json, makes node_modules match it
# (npm ci with a lock file, npm install without), only when out of date.
need_npm() {
	[ -f "$ROOT/package.json" ] || return 0
	command -v npm >/dev/null 2>&1 || die "package.json present but npm not found"
	local nm="$ROOT/node_modules" lock="$ROOT/package-lock.json"
	if [ -f "$lock" ]; then
		if [ ! -d "$nm" ] || [ "$lock" -nt "$nm" ] || [ "$ROOT/package.json" -nt "$nm" ]; then
			say "npm ci"
			(cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
			mkdir -p "$nm" && touch "$nm"
		fi
	elif [ ! -d "$nm" ] || [ "$ROOT/package.json" -nt "$nm" ]; then
		say "npm install (no package-lock.json)"
		(cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error)
		mkdir -p "$nm" && touch "$nm"
	fi
}

# --- database --------------------------------------------------------------

# True when the scripts manage a private cluster (no external database given).
use_private_pg() { [ -z "${PASSERELLE_DATABASE_URL:-}" ]; }

# db_url: prints PASSERELLE_DATABASE_URL, or the private cluster's URL written
# by `scripts/pg start`. Fails when neither exists.
db_url() {
	if [ -n "${PASSERELLE_DATABASE_URL:-}" ]; then
		printf '%s\n' "$PASSERELLE_DATABASE_URL"
	elif [ -s "$DATA/database_url" ]; then
		cat "$DATA/database_url"
	else
		die "no database: set PASSERELLE_DATABASE_URL or run scripts/pg start"
	fi
}

# pg_running: exit 0 when the private cluster is up.
pg_running() { "$ROOT/scripts/pg" status >/dev/null 2>&1; }

# The passerelle binary of a build folder (default build/).
passerelle_bin() { printf '%s/passerelle\n' "${1:-$ROOT/build}"; }

# pg_tool NAME: path of a PostgreSQL client program (pg_dump, pg_restore,
# psql) of the newest installed version, or PASSERELLE_PG_BINDIR's, or PATH's:
# pg_dump must be at least as new as the server it dumps.
pg_tool() {
	local d
	if [ -n "${PASSERELLE_PG_BINDIR:-}" ] && [ -x "$PASSERELLE_PG_BINDIR/$1" ]; then
		printf '%s\n' "$PASSERELLE_PG_BINDIR/$1"
		return
	fi
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -V -r); do
		if [ -x "$d/$1" ]; then
			printf '%s\n' "$d/$1"
			return
		fi
	done
	command -v "$1" 2>/dev/null || die "$1 not found (install package postgresql-client)"
}

# dump_schema FILE: the migrations recorded in a custom-format dump, one
# "NNNN name" line each, read from its copy of schema_migrations.
dump_schema() {
	"$(pg_tool pg_restore)" --data-only --table=schema_migrations -f - "$1" |
	    awk '/^COPY .*schema_migrations / { on = 1; next }
		on && /^\\\.$/ { on = 0 }
		on { printf "%04d %s\n", $1, $2 }' | sort -n
}

# --- database passwords off command lines ------------------------------------

# A command line is world-readable (/proc/PID/cmdline, ps): a database URL
# with a password must not be given to pg_dump, pg_restore or psql as an
# argument. pg_conn URL sets PG_URL to URL without its password (the
# user:password@ of a postgresql:// URL, a password= query parameter, or a
# password=... keyword) and, when there was one, writes it to a temporary
# password file (mode 0600) exported as PGPASSFILE, which libpq reads (the
# passerelle binary's too). The caller runs pg_conn_cleanup at exit (trap).
PG_URL=""
_pg_passfile=""

# _pct_decode S: S with its %XX escapes decoded.
_pct_decode() {
	local s="${1//\\/\\\\}"
	printf '%b' "${s//%/\\x}"
}

pg_conn() {
	local url="$1" pw="" found=0
	PG_URL="$url"
	case "$url" in
	postgres://* | postgresql://*)
		local scheme="${url%%://*}" after="${url#*://}" netloc rest
		netloc="${after%%[/?]*}"
		rest="${after:${#netloc}}"
		if [[ "$netloc" == *@* ]]; then
			local userinfo="${netloc%@*}"
			if [[ "$userinfo" == *:* ]]; then
				pw="$(_pct_decode "${userinfo#*:}")"
				found=1
				netloc="${userinfo%%:*}@${netloc##*@}"
			fi
		fi
		if [[ "$rest" == *\?* ]]; then
			local path="${rest%%\?*}" kept="" kv parts=()
			IFS='&' read -r -a parts <<<"${rest#*\?}"
			for kv in "${parts[@]}"; do
				if [[ "$kv" == password=* ]]; then
					pw="$(_pct_decode "${kv#password=}")"
					found=1
				else
					kept="${kept:+$kept&}$kv"
				fi
			done
			rest="$path${kept:+?$kept}"
		fi
		PG_URL="$scheme://$netloc$rest"
		;;
	*)
		# keyword=value pairs: password=word or password='quoted \' word'
		local re="(^|[[:space:]])password[[:space:]]*=[[:space:]]*('(([^'\\\\]|\\\\.)*)'|([^[:space:]']*))"
		if [[ "$url" =~ $re ]]; then
			found=1
			if [ -n "${BASH_REMATCH[3]}${BASH_REMATCH[2]:0:1}" ] &&
			    [ "${BASH_REMATCH[2]:0:1}" = "'" ]; then
				pw="$(printf '%s' "${BASH_REMATCH[3]}" | sed -E "s/\\\\(.)/\\1/g")"
			else
				pw="${BASH_REMATCH[5]}"
			fi
			PG_URL="${url/"${BASH_REMATCH[0]}"/${BASH_REMATCH[1]}}"
		fi
		;;
	esac
	[ "$found" = 1 ] || return 0
	pg_conn_cleanup
	_pg_passfile="$(umask 077 && mktemp "${TMPDIR:-/tmp}/passerelle-pgpass.XXXXXX")"
	chmod 0600 "$_pg_passfile"
	# Any host, port, database and user: this file serves this run only.
	pw="${pw//\\/\\\\}"
	printf '*:*:*:*:%s\n' "${pw//:/\\:}" >"$_pg_passfile"
	export PGPASSFILE="$_pg_passfile"
}

pg_conn_cleanup() {
	if [ -n "$_pg_passfile" ]; then
		rm -f "$_pg_passfile"
		_pg_passfile=""
	fi
}
