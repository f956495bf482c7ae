#!/usr/bin/env bash
# Restore drill: a database with cases is backed up with scripts/backup and
# restored with scripts/restore into a NEW PostgreSQL cluster; a server on it
# with the same master key must read every case back byte for byte and the
# audit chain must verify; with another key it must refuse to start, naming
# the key. Also: the backup holds no name and no key, restore refuses a
# non-empty target and a backup from a newer schema; no session survives a
# restore (a cookie valid at backup time gets 401), restore lists the
# erasures made since the backup, and a password in the database URL never
# reaches a command line (pg_dump, pg_restore and psql are wrapped to record
# theirs).
#
# Environment (scripts/test sets it): PASSERELLE_BIN, PASSERELLE_SOURCE_DIR,
# PASSERELLE_TEST_DATABASE_URL (a superuser URL of the test cluster). Needs
# curl and the PostgreSQL server programs (initdb, pg_ctl). Everything it
# makes (a database on the test cluster, a cluster and files under
# /var/tmp) is removed at exit, failed or not.
set -uo pipefail

SRC="${PASSERELLE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
BIN="${PASSERELLE_BIN:-$SRC/build/passerelle}"
ADMIN_URL="${PASSERELLE_TEST_DATABASE_URL:?PASSERELLE_TEST_DATABASE_URL is required}"
PW="Passerelle-Demo-2026"	# the demo accounts' (fictional data only)
export PASSERELLE_ARGON2_OPS=2 PASSERELLE_ARGON2_MEM_KIB=19456
export PASSERELLE_SOP="$SRC/sop/mali.json" PASSERELLE_WEB_ROOT="$SRC/web"
unset PASSERELLE_DATABASE_URL PASSERELLE_KEY_FILE PASSERELLE_REPLICA_URL

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'PASS: %s\n' "$*"; }
ko() { fail=$((fail + 1)); printf 'FAIL: %s\n' "$*"; }
check() {	# check WHAT CMD...: PASS when CMD succeeds
	local what="$1"
	shift
	if "$@"; then ok "$what"; else ko "$what"; fi
}
abort() {
	ko "$*"
	exit 1	# cleanup runs from the EXIT trap
}

PGBIN=""
for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -V -r); do
	[ -x "$d/initdb" ] && { PGBIN="$d"; break; }
done
[ -n "$PGBIN" ] || PGBIN="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
PSQL="$PGBIN/psql"
[ -x "$PSQL" ] || PSQL="$(command -v psql)"

WORK="$(mktemp -d /var/tmp/passerelle-drill.XXXXXX)"
chmod 0711 "$WORK"
CL="$WORK/cluster"	# the new cluster: owned by postgres when we are root
DBNAME="ops_restore_$$_$RANDOM"
server_pid=""
cluster_up=0

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "$cluster_up" = 1 ]; then
		as_pg "$PGBIN/pg_ctl" stop -D "$CL/data" -m immediate -w -s >/dev/null 2>&1
	fi
	"$PSQL" -X -q -d "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$WORK"
	printf '\nbackup/restore drill: %d passed, %d failed\n' "$pass" "$fail"
	if [ "$fail" -gt 0 ] || [ "$rc" -ne 0 ]; then
		exit 1
	fi
	exit 0
}
trap cleanup EXIT
trap 'ko "interrupted"; exit 130' INT TERM

# url_for BASE NAME: BASE's URL with database NAME.
url_for() { printf '%s\n' "$1" | sed -E "s|^(postgres(ql)?://[^/?]*)/[^?]*|\\1/$2|"; }

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return
		fi
	done
	printf '%s\n' 28080
}

# start_server DB_URL KEY: a server in the background; waits for /healthz.
start_server() {
	PORT="$(free_port)"
	BASE="http://127.0.0.1:$PORT"
	PASSERELLE_DATABASE_URL="$1" PASSERELLE_KEY_FILE="$2" \
	    PASSERELLE_LISTEN="127.0.0.1:$PORT" "$BIN" serve 2>>"$WORK/server.log" &
	server_pid=$!
	for _ in $(seq 1 100); do
		if curl -fs -o /dev/null "$BASE/healthz"; then return 0; fi
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$WORK/server.log"
	return 1
}

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid"
	wait "$server_pid"
	local rc=$?
	server_pid=""
	return "$rc"
}

# login USER: cookie jar $WORK/USER.jar, CSRF token in $WORK/USER.csrf. The
# password goes in a file, not on a command line.
login() {
	local body
	printf '{"username":"%s","password":"%s"}' "$1" "$PW" >"$WORK/login.json"
	body="$(curl -fsS -c "$WORK/$1.jar" -H 'Content-Type: application/json' \
	    --data-binary @"$WORK/login.json" "$BASE/api/v1/session")" || return 1
	rm -f "$WORK/login.json"
	printf '%s' "$body" | sed -nE 's/.*"csrf_token":"([^"]+)".*/\1/p' >"$WORK/$1.csrf"
	[ -s "$WORK/$1.csrf" ]
}

# api USER METHOD PATH [BODY]: prints the body; fails on a non-2xx status.
api() {
	local user="$1" method="$2" path="$3"
	shift 3
	local args=(-fsS -b "$WORK/$user.jar" -X "$method"
	    -H "X-CSRF-Token: $(cat "$WORK/$user.csrf")")
	if [ $# -gt 0 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$1")
	fi
	curl "${args[@]}" "$BASE$path"
}

# jfield NAME: the first "NAME": value of a JSON text (top-level members come
# first in these answers), without quotes.
jfield() { grep -o "\"$1\":\"\?[^\",}]*" | head -n1 | sed -E "s/^\"$1\":\"?//"; }

# ---------------------------------------------------------------- 1. source
[ -x "$BIN" ] || abort "no passerelle binary at $BIN"
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_URL" -c "CREATE DATABASE $DBNAME" >/dev/null ||
    abort "cannot create database $DBNAME on the test cluster"
SRC_URL="$(url_for "$ADMIN_URL" "$DBNAME")"
KEY="$WORK/master.key"
OTHER_KEY="$WORK/other.key"
"$BIN" keygen --out "$KEY" >/dev/null && "$BIN" keygen --out "$OTHER_KEY" >/dev/null ||
    abort "keygen"
PASSERELLE_DATABASE_URL="$SRC_URL" "$BIN" migrate 2>/dev/null || abort "migrate"
start_server "$SRC_URL" "$KEY" || abort "server on the source database"
PASSERELLE_DATABASE_URL="$SRC_URL" PASSERELLE_KEY_FILE="$KEY" "$BIN" seed --demo >/dev/null ||
    abort "seed --demo"
login police.agent && login police.chef || abort "login"

today="$(date -u +%Y-%m-%d)"
names=(Drill-Aminata Drill-Bakary Drill-Coumba Drill-Djeneba Drill-Fatoumata)
ids=()
for n in "${names[@]}"; do
	body="$(api police.agent POST /api/v1/cases "{\"victim\":{\"given_name\":\"$n\",\"family_name\":\"Keita-Drill\",\"date_of_birth\":\"1990-02-03\",\"sex\":\"female\",\"phone\":\"+223 70 00 00 00\"},\"identification\":{\"date\":\"$today\",\"region\":\"bamako\",\"exploitation_types\":[\"forced_labour\"],\"narrative\":\"Recit de $n\"}}")" ||
	    abort "create a case"
	ids+=("$(printf '%s' "$body" | jfield id)")
done
api police.agent POST "/api/v1/cases/${ids[0]}/notes" '{"body":"Note de suivi drill","visibility":"case"}' >/dev/null ||
    abort "add a note"
v="$(api police.chef GET "/api/v1/cases/${ids[1]}" | jfield version)"
api police.chef POST "/api/v1/cases/${ids[1]}/transitions" \
    "{\"transition\":\"close_at_identification\",\"version\":$v}" >/dev/null || abort "close a case"
api police.chef POST "/api/v1/cases/${ids[2]}/erase" '{}' >/dev/null || abort "erase a case"
ok "source: ${#ids[@]} cases through the API (a note, a closed case, an erased case)"

# Every case as the police caseworker reads it, and the list.
mkdir -p "$WORK/before" "$WORK/after"
for id in "${ids[@]}"; do
	api police.agent GET "/api/v1/cases/$id" >"$WORK/before/$id.json" || abort "read case $id"
done
api police.agent GET "/api/v1/cases?limit=500" >"$WORK/before/list.json" || abort "list cases"
check "the source answers carry identity (the comparison means something)" \
    grep -q "Drill-Aminata" "$WORK/before/${ids[0]}.json"
# police.chef's session is valid now, when the backup is taken; it must not
# open the restored database.
cp "$WORK/police.chef.jar" "$WORK/old-session.jar"
stop_server || ko "the source server stopped cleanly"

# PostgreSQL's programs, wrapped: each records its command line and the
# password file it was given (mode and content), then runs the real one.
WRAP="$WORK/pgwrap"
mkdir -p "$WRAP"
REAL_BIN="$(dirname "$PSQL")"
for tool in pg_dump pg_restore psql; do
	real="$REAL_BIN/$tool"
	[ -x "$real" ] || real="$(command -v "$tool")"
	cat >"$WRAP/$tool" <<WRAPPER
#!/usr/bin/env bash
{ printf 'argv:'; printf ' %s' "\$0" "\$@"; printf '\n'
  if [ -n "\${PGPASSFILE:-}" ] && [ -f "\$PGPASSFILE" ]; then
	printf 'passfile: %s %s %s\n' "\$PGPASSFILE" "\$(stat -c %a "\$PGPASSFILE")" "\$(cat "\$PGPASSFILE")"
  fi; } >>"$WORK/pgtools.log"
exec "$real" "\$@"
WRAPPER
	chmod +x "$WRAP/$tool"
done
SECRET="Drill-secret-$RANDOM"
# The test cluster trusts local connections, so the password is accepted
# and unused: what matters is where it travels.
SECRET_URL="$SRC_URL&password=$SECRET"
no_secret_on_argv() { ! grep "^argv:" "$WORK/pgtools.log" | grep -q -e "$SECRET" -e "password="; }
passfiles_gone() {
	local f
	for f in $(sed -n 's/^passfile: \([^ ]*\) .*/\1/p' "$WORK/pgtools.log"); do
		[ ! -e "$f" ] || return 1
	done
}

# ---------------------------------------------------------------- 2. backup
sleep 1	# the erasure above falls in an earlier second than the backup
DUMP="$(cd "$WORK" && PASSERELLE_DATABASE_URL="$SECRET_URL" PASSERELLE_BIN="$BIN" \
    PASSERELLE_PG_BINDIR="$WRAP" "$SRC/scripts/backup" 2>"$WORK/backup.log")" ||
    { cat "$WORK/backup.log"; abort "scripts/backup"; }
ok "scripts/backup wrote $(basename "$DUMP")"
check "scripts/backup ran pg_dump through the wrappers" grep -q "^argv: .*pg_dump" "$WORK/pgtools.log"
check "no password on pg_dump's or pg_restore's command line" no_secret_on_argv
check "the password went in a password file of mode 0600" \
    grep -q "^passfile: .* 600 \*:\*:\*:\*:$SECRET\$" "$WORK/pgtools.log"
check "and the password file is gone after the backup" passfiles_gone
sessions_rows="$("$REAL_BIN/pg_restore" --data-only --table=sessions -f - "$DUMP" |
    awk '/^COPY .*sessions / { on = 1; next } on && /^\\\.$/ { exit } on { n++ } END { print n + 0 }')"
check "the backup holds no session ($sessions_rows rows)" test "$sessions_rows" = 0

# An erasure after the backup: restore must say it is to be done again.
sleep 1
start_server "$SRC_URL" "$KEY" || abort "the source server again"
login police.chef || abort "login again"
api police.chef POST "/api/v1/cases/${ids[3]}/erase" '{}' >/dev/null || abort "erase after the backup"
stop_server || ko "the source server stopped cleanly"
version="$(PASSERELLE_DATABASE_URL="$SRC_URL" "$BIN" migrate --status | awk '$1 == "applied" { v = $2 } END { print v }')"
check "the file name and .meta record the schema version ($version)" \
    bash -c '[[ "$1" == *-schema$2.dump ]] && grep -qx "schema_version=$2" "$1.meta"' _ "$DUMP" "$version"
check "the backup is mode 0600" test "$(stat -c %a "$DUMP")" = 600
"$PGBIN/pg_restore" -f "$WORK/plain.sql" "$DUMP" 2>/dev/null || "$(command -v pg_restore)" -f "$WORK/plain.sql" "$DUMP"
keyhex="$(od -An -tx1 -v "$KEY" | tr -d ' \n')"
check "the backup holds no name in clear" bash -c '! grep -q -e Drill- -e Keita "$1"' _ "$WORK/plain.sql"
check "the backup holds no master key" bash -c '! grep -qi -- "$2" "$1" && ! grep -qi -- "$2" "$3"' _ \
    "$WORK/plain.sql" "$keyhex" "$DUMP.meta"
rm -f "$WORK/plain.sql"

# ---------------------------------------------------- 3. a new cluster
mkdir -p "$CL"
[ "$(id -u)" -ne 0 ] || chown postgres: "$CL"
chmod 0700 "$CL"
as_pg "$PGBIN/initdb" -D "$CL/data" --auth=trust --username=postgres --encoding=UTF8 \
    --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; abort "initdb"; }
as_pg mkdir -m 0700 "$CL/run"
NPORT="$(free_port)"
as_pg tee -a "$CL/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = ''
unix_socket_directories = '$CL/run'
port = $NPORT
EOF
as_pg "$PGBIN/pg_ctl" start -D "$CL/data" -l "$CL/log" -w -t 60 -s >/dev/null ||
    abort "the new cluster did not start"
cluster_up=1
NEW_ADMIN="postgresql:///postgres?host=$CL/run&port=$NPORT&user=postgres"
"$PSQL" -X -q -d "$NEW_ADMIN" -c "CREATE DATABASE restored" -c "CREATE DATABASE future" ||
    abort "create databases in the new cluster"
NEW_URL="$(url_for "$NEW_ADMIN" restored)"
ok "a new cluster (Unix socket only) in $CL"

# ---------------------------------------------------------------- 4. restore
: >"$WORK/pgtools.log"
if PASSERELLE_BIN="$BIN" PASSERELLE_PG_BINDIR="$WRAP" PASSERELLE_DATABASE_URL="$NEW_URL&password=$SECRET" \
    "$SRC/scripts/restore" "$DUMP" --live-database-url "$SECRET_URL" \
    >"$WORK/restore.out" 2>"$WORK/restore.log"; then
	ok "scripts/restore into the new cluster"
else
	cat "$WORK/restore.log"
	abort "scripts/restore into the new cluster"
fi
check "restore says how to start the server" grep -q "passerelle serve" "$WORK/restore.log"
sed -n '/erasures/,/^Next/p' "$WORK/restore.log" | sed 's/^/    /'
check "restore says that no session survives" grep -q "no session survives" "$WORK/restore.log"
check "the restored database holds no session" test "$("$PSQL" -X -t -A -d "$NEW_URL" \
    -c "SELECT count(*) FROM sessions")" = 0
check "restore warns that later erasures must be made again" grep -q "erasures made after this backup" "$WORK/restore.log"
check "and lists the erasure made after the backup (${ids[3]})" grep -q "^  ${ids[3]} .* case.erase\$" "$WORK/restore.log"
check "but not the one made before it (${ids[2]})" bash -c '! grep -q "^  $2 " "$1"' _ "$WORK/restore.log" "${ids[2]}"
check "restore ran pg_restore through the wrappers" grep -q "^argv: .*pg_restore" "$WORK/pgtools.log"
check "no password on restore's tools' command lines" no_secret_on_argv
check "and its password files are gone" passfiles_gone
if PASSERELLE_BIN="$BIN" "$SRC/scripts/restore" "$DUMP" --database-url "$NEW_URL" \
    >/dev/null 2>"$WORK/again.log"; then
	ko "a second restore into a non-empty database is refused"
else
	check "a second restore into a non-empty database is refused" grep -q "not empty" "$WORK/again.log"
fi

# A backup of a schema newer than the binary: refused, target untouched.
PASSERELLE_DATABASE_URL="$SRC_URL" "$PSQL" -X -q -d "$SRC_URL" -c \
    "INSERT INTO schema_migrations (version, name, sha256) VALUES (9999, '9999_future.sql', repeat('0', 64))" ||
    abort "fake a future migration"
FUTURE="$(cd "$WORK" && PASSERELLE_DATABASE_URL="$SRC_URL" "$SRC/scripts/backup" \
    --out "$WORK/future.dump" 2>/dev/null)" || abort "back up the future schema"
if PASSERELLE_BIN="$BIN" "$SRC/scripts/restore" "$FUTURE" --database-url \
    "$(url_for "$NEW_ADMIN" future)" >/dev/null 2>"$WORK/future.log"; then
	ko "a backup with a newer schema is refused"
else
	check "a backup with a newer schema is refused, naming it" grep -q "newer than this passerelle" "$WORK/future.log"
	check "and the target stays empty" test "$("$PSQL" -X -t -A -d "$(url_for "$NEW_ADMIN" future)" \
	    -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0
fi

# ------------------------------------------------ 5. the same key: identical
if start_server "$NEW_URL" "$KEY"; then
	ok "a server starts on the restored database with the same key"
	code="$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/old-session.jar" "$BASE/api/v1/cases")"
	check "a session valid at backup time gets 401 after the restore (got $code)" test "$code" = 401
	login police.agent || abort "login on the restored database"
	same=0
	for id in "${ids[@]}"; do
		api police.agent GET "/api/v1/cases/$id" >"$WORK/after/$id.json" || true
		if cmp -s "$WORK/before/$id.json" "$WORK/after/$id.json"; then
			same=$((same + 1))
		else
			ko "case $id reads back identically"
			diff <(tr ',' '\n' <"$WORK/before/$id.json") <(tr ',' '\n' <"$WORK/after/$id.json") | head -n 10
		fi
	done
	check "every case (${#ids[@]}) reads back byte for byte" test "$same" -eq "${#ids[@]}"
	api police.agent GET "/api/v1/cases?limit=500" >"$WORK/after/list.json" || true
	check "the case list reads back byte for byte" cmp -s "$WORK/before/list.json" "$WORK/after/list.json"
	stop_server || ko "the restored server stopped cleanly"
else
	ko "a server starts on the restored database with the same key"
fi
if out="$(PASSERELLE_DATABASE_URL="$NEW_URL" PASSERELLE_KEY_FILE="$KEY" "$BIN" audit verify 2>&1)"; then
	check "passerelle audit verify holds on the restored database ($out)" true
else
	ko "passerelle audit verify holds on the restored database: $out"
fi

# ------------------------------------------- 6. another key: a clear refusal
: >"$WORK/server.log"
PORT="$(free_port)"
rc=0
PASSERELLE_DATABASE_URL="$NEW_URL" PASSERELLE_KEY_FILE="$OTHER_KEY" \
    PASSERELLE_LISTEN="127.0.0.1:$PORT" timeout 30 "$BIN" serve >"$WORK/other.log" 2>&1 || rc=$?
check "with another key, serve exits non-zero (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "and names the key problem" grep -q "PASSERELLE_KEY_FILE.*is not the master key of this database" "$WORK/other.log"
check "and prints no case data" bash -c '! grep -q Drill- "$1"' _ "$WORK/other.log"
sed 's/^/    /' "$WORK/other.log"
