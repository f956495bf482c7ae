#!/usr/bin/env bash
# tests/ops/replica.sh: the read replica drill (issue 10, "beyond one machine").
#
# Builds a NEW primary cluster and a streaming replica of it (pg_basebackup
# -R) on Unix sockets under /var/tmp, runs TWO passerelle servers against the
# primary, both with PASSERELLE_REPLICA_URL, and shows that:
#   - a write through either server is seen by both (sessions too);
#   - statistics come from the replica (metric), even when the primary is
#     idle (no false lag), and an export's audit record is on the primary;
#   - a replica that lags more than PASSERELLE_REPLICA_MAX_LAG is not read;
#   - stopping the replica degrades nothing: statistics still 200, from the
#     primary, with the fallback metric and one log line;
#   - restarting it brings replica reads back, without leaking connections.
# Everything it made is removed at the end, even on failure.
#
# Environment (scripts/test sets them): PASSERELLE_BIN, PASSERELLE_SOURCE_DIR.
# PASSERELLE_TEST_DATABASE_URL is not used: this drill needs clusters of its
# own, since it stops and restarts them.
set -uo pipefail

BIN="${PASSERELLE_BIN:?set PASSERELLE_BIN to build/passerelle}"
SRC="${PASSERELLE_SOURCE_DIR:?set PASSERELLE_SOURCE_DIR to the source tree}"
PASSWORD='Passerelle-Demo-2026'

pass=0
fail=0
ok() {
	printf 'PASS %s\n' "$1"
	pass=$((pass + 1))
}
ko() {
	printf 'FAIL %s\n' "$1"
	fail=$((fail + 1))
}
check() { # check NAME COMMAND...: PASS when the command succeeds
	local name="$1"
	shift
	if "$@"; then ok "$name"; else ko "$name"; fi
}
die() {
	printf 'FAIL setup: %s\n' "$*"
	exit 1
}

# --- PostgreSQL binaries, run as the postgres user when we are root --------
pg_bindir() {
	local d
	if [ -n "${PASSERELLE_PG_BINDIR:-}" ]; then
		printf '%s\n' "$PASSERELLE_PG_BINDIR"
		return
	fi
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -V -r); do
		if [ -x "$d/initdb" ]; then
			printf '%s\n' "$d"
			return
		fi
	done
	dirname "$(command -v initdb)"
}
PGBIN="$(pg_bindir)"
[ -x "$PGBIN/pg_basebackup" ] || die "PostgreSQL server binaries not found"
if [ "$(id -u)" = 0 ]; then
	as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
	as_pg() { (cd / && "$@"); }
fi

WORK="$(mktemp -d /var/tmp/passerelle-replica-XXXXXX)" || die "mktemp"
chmod 0700 "$WORK"
[ "$(id -u)" != 0 ] || chown postgres: "$WORK"
SERVER_PIDS=()

cleanup() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${SERVER_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for c in replica primary; do
		if [ -f "$WORK/$c/postmaster.pid" ]; then
			as_pg "$PGBIN/pg_ctl" stop -D "$WORK/$c" -m immediate -w \
			    -t 60 -s >/dev/null 2>&1
		fi
	done
	if [ -n "${PASSERELLE_KEEP_WORK:-}" ]; then
		printf 'kept %s\n' "$WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a TCP port nothing listens on (for sockets: a name only)
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q . &&
		    [ ! -e "$WORK/run/.s.PGSQL.$p" ]; then
			printf '%s\n' "$p"
			return
		fi
	done
	die "no free port"
}

PPORT="$(free_port)"
as_pg mkdir -m 0700 "$WORK/run"
RPORT="$(free_port)"
[ "$RPORT" != "$PPORT" ] || RPORT=$((PPORT + 1))
PRIMARY="host=$WORK/run port=$PPORT user=postgres dbname=passerelle"
REPLICA="host=$WORK/run port=$RPORT user=postgres dbname=passerelle"

psql_on() { # psql_on PORT SQL: one value
	"$PGBIN/psql" -X -qtA -h "$WORK/run" -p "$1" -U postgres -d passerelle \
	    -c "$2" 2>/dev/null
}

# --- primary and replica ----------------------------------------------------
as_pg "$PGBIN/initdb" -D "$WORK/primary" --auth=trust --username=postgres \
    --encoding=UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 5 "$WORK/initdb.log")"
as_pg tee -a "$WORK/primary/postgresql.conf" >/dev/null <<EOF
listen_addresses = ''
unix_socket_directories = '$WORK/run'
port = $PPORT
wal_level = replica
max_wal_senders = 4
max_connections = 100
EOF
as_pg "$PGBIN/pg_ctl" start -D "$WORK/primary" -l "$WORK/primary.log" -w -t 60 \
    -s >/dev/null 2>&1 || die "primary did not start: $(tail -n 5 "$WORK/primary.log")"
"$PGBIN/psql" -X -q -h "$WORK/run" -p "$PPORT" -U postgres -d postgres \
    -c "CREATE DATABASE passerelle" || die "createdb"

as_pg "$PGBIN/pg_basebackup" -h "$WORK/run" -p "$PPORT" -U postgres \
    -D "$WORK/replica" -R -X stream -c fast >"$WORK/basebackup.log" 2>&1 ||
    die "pg_basebackup: $(tail -n 5 "$WORK/basebackup.log")"
as_pg tee -a "$WORK/replica/postgresql.conf" >/dev/null <<EOF
port = $RPORT
hot_standby = on
EOF
start_replica() {
	as_pg "$PGBIN/pg_ctl" start -D "$WORK/replica" -l "$WORK/replica.log" \
	    -w -t 60 -s >/dev/null 2>&1
}
stop_replica() {
	as_pg "$PGBIN/pg_ctl" stop -D "$WORK/replica" -m fast -w -t 60 -s \
	    >/dev/null 2>&1
}
start_replica || die "replica did not start: $(tail -n 5 "$WORK/replica.log")"
check "the replica is a hot standby of the new primary" \
    test "$(psql_on "$RPORT" 'SELECT pg_is_in_recovery()')" = t

# --- the application -------------------------------------------------------
export PASSERELLE_DATABASE_URL="$PRIMARY"
export PASSERELLE_KEY_FILE="$WORK/master.key"
export PASSERELLE_SOP="$SRC/sop/mali.json"
export PASSERELLE_WEB_ROOT="$SRC/web"
# cases registered here are counted at once (production: month)
export PASSERELLE_STATS_FREEZE=none
export PASSERELLE_ARGON2_OPS=2 PASSERELLE_ARGON2_MEM_KIB=19456
export PASSERELLE_THREADS=4 PASSERELLE_DB_POOL_SIZE=4 PASSERELLE_REPLICA_POOL_SIZE=2
"$BIN" keygen --out "$WORK/master.key" >/dev/null 2>&1 || die "keygen"
"$BIN" migrate >"$WORK/migrate.log" 2>&1 || die "migrate: $(tail -n 3 "$WORK/migrate.log")"
"$BIN" seed --demo >"$WORK/seed.log" 2>&1 || die "seed: $(tail -n 3 "$WORK/seed.log")"

# Server A reads the replica with the default delay; server B allows 2 s
# only, so that a paused replay shows as lag quickly.
APORT="$(free_port)"
BPORT="$(free_port)"
[ "$BPORT" != "$APORT" ] || BPORT=$((APORT + 1))
start_server() { # NAME PORT MAX_LAG
	PASSERELLE_LISTEN="127.0.0.1:$2" PASSERELLE_REPLICA_URL="$REPLICA" \
	    PASSERELLE_REPLICA_MAX_LAG="$3" "$BIN" serve >"$WORK/$1.log" 2>&1 &
	SERVER_PIDS+=($!)
}
start_server A "$APORT" 30
start_server B "$BPORT" 2
A="http://127.0.0.1:$APORT"
B="http://127.0.0.1:$BPORT"
for s in "$A" "$B"; do
	for _ in $(seq 1 100); do
		curl -fs "$s/readyz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fs "$s/readyz" >/dev/null 2>&1 || die "server $s not ready: $(tail -n 5 "$WORK"/A.log "$WORK"/B.log)"
done
ok "two servers serve one primary, each with the replica configured"
check "GET /api/v1/openapi.json answers without a session, as OpenAPI 3.1" \
    test "$(curl -fs "$A/api/v1/openapi.json" | jq -r .openapi | cut -c1-4)" = 3.1.

# --- HTTP helpers ------------------------------------------------------------
login() { # login SERVER USER: prints "cookie csrf"
	local out
	out="$(curl -s -c - -H 'Content-Type: application/json' \
	    -d "{\"username\":\"$2\",\"password\":\"$PASSWORD\"}" \
	    "$1/api/v1/session")" || return 1
	printf '%s %s\n' "$(printf '%s\n' "$out" | awk '$6 == "passerelle_session" { print $7 }')" \
	    "$(printf '%s\n' "$out" | grep -o '"csrf_token":"[^"]*"' | cut -d'"' -f4)"
}
# api SERVER SESSION METHOD PATH [BODY]: body to stdout, status to $WORK/status
api() {
	local srv="$1" sess="$2" method="$3" path="$4" body="${5:-}"
	local cookie="${sess% *}" csrf="${sess#* }"
	local args=(-s -o "$WORK/body" -w '%{http_code}' -X "$method"
	    -H "Cookie: passerelle_session=$cookie" -H "X-CSRF-Token: $csrf"
	    -H "Origin: $srv")
	[ -z "$body" ] || args+=(-H 'Content-Type: application/json' -d "$body")
	curl "${args[@]}" "$srv$path" >"$WORK/status"
	cat "$WORK/body"
}
status() { cat "$WORK/status"; }
metric() { # metric SERVER NAME{LABELS}: its value (0 when absent)
	curl -s "$1/metrics" | awk -v m="$2" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

CASE_BODY='{"victim":{"given_name":"Awa","family_name":"Fictive","sex":"female","age_estimate":16},
 "identification":{"date":"2026-03-10","region":"bamako","place":"Gare routière",
 "exploitation_types":["forced_labour"],"narrative":"Récit fictif"}}'
create_case() { # create_case SERVER SESSION: prints the id
	api "$1" "$2" POST /api/v1/cases "$CASE_BODY" | jq -r .id
}

NGO_A="$(login "$A" ong.agent)"
AN_B="$(login "$B" comite.analyste)"
[ -n "${NGO_A%% *}" ] && [ -n "${AN_B%% *}" ] || die "login failed"

# --- writes through either server are seen by both -------------------------
IDS=()
for srv in "$A" "$B" "$A" "$B" "$A" "$B"; do
	id="$(create_case "$srv" "$NGO_A")"
	if [ "$(status)" != 201 ]; then
		ko "create a case through $srv (HTTP $(status))"
		continue
	fi
	IDS+=("$id")
done
check "six cases created, three through each server, one session" \
    test "${#IDS[@]}" = 6
seen=0
for id in "${IDS[@]}"; do
	for srv in "$A" "$B"; do
		api "$srv" "$NGO_A" GET "/api/v1/cases/$id" >/dev/null
		[ "$(status)" != 200 ] || seen=$((seen + 1))
	done
done
check "each case reads back through both servers ($seen of 12)" test "$seen" = 12

# --- statistics come from the replica ---------------------------------------
for _ in $(seq 1 100); do
	[ "$(psql_on "$RPORT" 'SELECT count(*) FROM cases')" = 6 ] && break
	sleep 0.1
done
check "the replica has replayed the six cases" \
    test "$(psql_on "$RPORT" 'SELECT count(*) FROM cases')" = 6
# Idle now: an idle primary must not make the replica look late (B: 2 s).
sleep 3
r0="$(metric "$B" passerelle_db_replica_reads_total)"
f0="$(metric "$B" 'passerelle_db_replica_fallbacks_total{reason="lagging"}')"
total="$(api "$B" "$AN_B" GET '/api/v1/stats?from=2026-03-01&to=2026-03-31&by=sex' | jq -r '.totals.all.count')"
check "statistics answer 200 with the six cases (total $total)" \
    test "$(status)/$total" = 200/6
r1="$(metric "$B" passerelle_db_replica_reads_total)"
check "statistics were read from the replica (replica reads $r0 -> $r1)" gt "$r1" "$r0"
check "an idle primary is not taken for lag (lagging fallbacks stay $f0)" \
    test "$(metric "$B" 'passerelle_db_replica_fallbacks_total{reason="lagging"}')" = "$f0"
check "passerelle_db_replica_up is 1" test "$(metric "$B" passerelle_db_replica_up)" = 1
api "$B" "$AN_B" GET '/api/v1/indicators?from=2026-03-01&to=2026-03-31' >/dev/null
check "indicators answer 200" test "$(status)" = 200
a0="$(psql_on "$PPORT" "SELECT count(*) FROM audit_log WHERE action = 'export.stats'")"
api "$B" "$AN_B" GET '/api/v1/exports/stats.csv?from=2026-03-01&to=2026-03-31&by=sex' >/dev/null
check "a CSV export answers 200" test "$(status)" = 200
a1="$(psql_on "$PPORT" "SELECT count(*) FROM audit_log WHERE action = 'export.stats'")"
check "the export's audit record is on the primary ($a0 -> $a1)" test "$a1" = $((a0 + 1))
api "$B" "$AN_B" GET '/api/v1/exports/stats.xlsx?from=2026-03-01&to=2026-03-31&by=sex' >/dev/null
check "an XLSX export answers 200" test "$(status)" = 200
api "$B" "$AN_B" GET '/api/v1/exports/htcds.csv?from=2026-03-01&to=2026-03-31' >/dev/null
check "an HTCDS export answers 200" test "$(status)" = 200
a2="$(psql_on "$PPORT" "SELECT count(*) FROM audit_log WHERE action LIKE 'export.%'")"
check "every export is audited on the primary ($a2 records)" test "$a2" -ge 3
r2="$(metric "$B" passerelle_db_replica_reads_total)"
check "indicators and exports read from the replica too ($r1 -> $r2)" \
    test "$r2" -ge $((r1 + 4))

# --- a lagging replica is not read ------------------------------------------
psql_on "$RPORT" 'SELECT pg_wal_replay_pause()' >/dev/null
create_case "$A" "$NGO_A" >/dev/null
sleep 3
f0="$(metric "$B" 'passerelle_db_replica_fallbacks_total{reason="lagging"}')"
total="$(api "$B" "$AN_B" GET '/api/v1/stats?from=2026-03-01&to=2026-03-31&by=sex' | jq -r '.totals.all.count')"
check "with replay paused, statistics are fresh from the primary (total $total)" \
    test "$(status)/$total" = 200/7
check "the fallback is counted as lagging" \
    gt "$(metric "$B" 'passerelle_db_replica_fallbacks_total{reason="lagging"}')" "$f0"
check "the lag is logged once" test "$(grep -c 'replica lagging' "$WORK/B.log")" = 1
psql_on "$RPORT" 'SELECT pg_wal_replay_resume()' >/dev/null
back=0
for _ in $(seq 1 30); do
	r0="$(metric "$B" passerelle_db_replica_reads_total)"
	api "$B" "$AN_B" GET '/api/v1/stats?from=2026-03-01&to=2026-03-31&by=sex' >/dev/null
	if gt "$(metric "$B" passerelle_db_replica_reads_total)" "$r0"; then
		back=1
		break
	fi
	sleep 0.5
done
check "once replay resumes, statistics read the replica again" test "$back" = 1

# --- losing the replica degrades nothing ----------------------------------
fds() { # open descriptors of server process $1 (sockets to PostgreSQL too)
	sleep 0.5
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}
FDS_A="$(fds "${SERVER_PIDS[0]}")"
FDS_B="$(fds "${SERVER_PIDS[1]}")"
stop_replica || ko "stop the replica"
AN_A="$(login "$A" comite.analyste)"
good=0
for i in 1 2 3 4 5 6; do
	for s in "$A" "$B"; do
		sess="$AN_B"
		[ "$s" = "$B" ] || sess="$AN_A"
		total="$(api "$s" "$sess" GET '/api/v1/stats?from=2026-03-01&to=2026-03-31&by=sex' | jq -r '.totals.all.count')"
		[ "$(status)/$total" != 200/7 ] || good=$((good + 1))
	done
	[ "$i" = 3 ] && sleep 1.2
done
check "with the replica stopped, statistics still answer 200 from the primary ($good of 12)" \
    test "$good" = 12
for s in A B; do
	srv="$A"
	[ "$s" = A ] || srv="$B"
	check "server $s counts unreachable fallbacks" \
	    gt "$(metric "$srv" 'passerelle_db_replica_fallbacks_total{reason="unreachable"}')" 0
	check "server $s reports passerelle_db_replica_up 0" \
	    test "$(metric "$srv" passerelle_db_replica_up)" = 0
	check "server $s logs the loss once, not per request" \
	    test "$(grep -c 'replica unreachable' "$WORK/$s.log")" = 1
done
api "$A" "$AN_A" GET '/api/v1/exports/stats.json?from=2026-03-01&to=2026-03-31&by=sex' >/dev/null
check "exports still answer 200" test "$(status)" = 200
create_case "$B" "$NGO_A" >/dev/null
check "writes are not affected" test "$(status)" = 201
check "/readyz stays 200 (the primary answers)" curl -fs "$A/readyz" -o /dev/null

# --- the replica comes back -----------------------------------------------
start_replica || ko "restart the replica"
back=0
for _ in $(seq 1 60); do
	r0="$(metric "$A" passerelle_db_replica_reads_total)"
	api "$A" "$AN_A" GET '/api/v1/stats?from=2026-03-01&to=2026-03-31&by=sex' >/dev/null
	if [ "$(status)" = 200 ] &&
	    gt "$(metric "$A" passerelle_db_replica_reads_total)" "$r0"; then
		back=1
		break
	fi
	sleep 0.5
done
check "after a restart, statistics read the replica again" test "$back" = 1
# One line per change of state: A saw the replica lost, then back.
check "server A's log has one line per change: lost, then in use again" \
    test "$(grep -o 'db: replica [a-z]*' "$WORK/A.log" | tr '\n' ,)" = \
    "db: replica unreachable,db: replica in,"
# Many reads at once, then count what the servers hold on each cluster.
for _ in $(seq 1 20); do
	api "$A" "$AN_A" GET '/api/v1/stats?from=2026-03-01&to=2026-03-31&by=sex' >/dev/null &
	api "$B" "$AN_B" GET '/api/v1/stats?from=2026-03-01&to=2026-03-31&by=sex' >/dev/null &
done
wait_jobs() { local j; for j in $(jobs -p); do
	case " ${SERVER_PIDS[*]} " in *" $j "*) ;; *) wait "$j" ;; esac; done; }
wait_jobs
rc="$(psql_on "$RPORT" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'passerelle'")"
pc="$(psql_on "$PPORT" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'passerelle'")"
check "no leak: $rc replica connections for 2 servers x pool 2" test "$rc" -le 4
fa="$(fds "${SERVER_PIDS[0]}")"
fb="$(fds "${SERVER_PIDS[1]}")"
check "no leak: open descriptors as before the loss (A $FDS_A -> $fa, B $FDS_B -> $fb)" \
    test "$fa/$fb" = "$FDS_A/$FDS_B"
check "no leak: $pc primary connections for 2 servers x pool 4" test "$pc" -le 8
check "the servers logged no error" \
    test "$(grep -c ' error ' "$WORK/A.log" "$WORK/B.log" | awk -F: '{ s += $2 } END { print s }')" = 0

printf '\nreplica drill: %d passed, %d failed\n' "$pass" "$fail"
if [ "$fail" != 0 ]; then
	printf -- '--- server A log (tail) ---\n'
	tail -n 20 "$WORK/A.log"
	printf -- '--- server B log (tail) ---\n'
	tail -n 20 "$WORK/B.log"
	exit 1
fi
exit 0
