# Sourced by .ci/run (bash): a real directory for the LDAP connector tests
# (connector/ldap, docs/connectors.md).
#
# Installs Debian's slapd and ldap-utils when missing (non-interactively;
# the package's own system directory is not used), then starts a
# throw-away slapd as the current user with a configuration and database
# of its own in a temporary directory:
#   - ldap://127.0.0.1:PORT (StartTLS) and ldaps://127.0.0.1:PORT2, with a
#     server certificate from a CA generated for this run, so that the
#     tests verify TLS for real;
#   - the ppolicy overlay (a user with pwdAccountLockedTime cannot bind);
#   - the small directory connector/ldap/testdata/directory.ldif.
# Exports SIGNET_TEST_LDAP_URL, SIGNET_TEST_LDAPS_URL, SIGNET_TEST_LDAP_CA,
# SIGNET_TEST_LDAP_BASE_DN, SIGNET_TEST_LDAP_BIND_DN/_BIND_PASSWORD, the
# directory's rootdn SIGNET_TEST_LDAP_ADMIN_DN/_ADMIN_PASSWORD (the tests
# lock an account with it), and for the directory-restart test a second
# slapd of the same directory, SIGNET_TEST_LDAP_RESTART_URL (ldaps), with
# SIGNET_TEST_LDAP_CTL, a script that stops and starts it
# (`$SIGNET_TEST_LDAP_CTL stop|start`). Both are stopped, and the directory removed,
# when the sourcing shell exits. Runs on its own too: `bash .ci/ldap.sh`
# checks that the directory answers, then stops it.

ldap_log() { printf '==> ldap: %s\n' "$*" >&2; }

ldap_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n -- "$@"; fi
}

ldap_install() {
	if [ -x /usr/sbin/slapd ] && [ -x /usr/sbin/slapadd ] && command -v ldapsearch >/dev/null; then
		return 0
	fi
	ldap_log "installing slapd and ldap-utils"
	# slapd's postinst asks no question with the noninteractive frontend
	# (it makes a default dc=nodomain directory this script never uses).
	ldap_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils >/dev/null 2>&1 ||
		{ ldap_as_root apt-get update >/dev/null && ldap_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils >/dev/null; }
}

# shellcheck source=freeport.sh
source "$(dirname "${BASH_SOURCE[0]}")/freeport.sh"

ldap_stop() {
	if [ -n "${SIGNET_LDAP_DIR:-}" ]; then
		"$SIGNET_LDAP_DIR/main/slapdctl" stop 2>/dev/null || true
		"$SIGNET_LDAP_DIR/restart/slapdctl" stop 2>/dev/null || true
		rm -rf "$SIGNET_LDAP_DIR"
		SIGNET_LDAP_DIR=
	fi
}

# ldap_certs makes a CA and a server certificate for 127.0.0.1 and
# localhost, valid for two days.
ldap_certs() {
	local d="$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=Signet CI LDAP CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
	chmod 0600 "$d/ca.key" "$d/server.key"
}

# ldap_instance starts slapd instance $2 of directory $1 with its own
# configuration, database (testdata/directory.ldif) and control script
# $1/$2/slapdctl (stop|start), on two free loopback ports; it sets
# ldap_port and ldap_tlsport.
ldap_instance() {
	local d="$1/$2" ca="$1" root
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	mkdir -p "$d/data"
	# A throw-away rootdn password for a directory that lives only as long
	# as this run.
	cat >"$d/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile $d/slapd.pid
argsfile $d/slapd.args
TLSCACertificateFile $ca/ca.pem
TLSCertificateFile $ca/server.pem
TLSCertificateKeyFile $ca/server.key
database mdb
suffix "dc=signet,dc=test"
rootdn "cn=admin,dc=signet,dc=test"
rootpw signet-admin-password
directory $d/data
maxsize 33554432
index objectClass,uid,cn,member,entryUUID eq
overlay ppolicy
ppolicy_default "cn=default,ou=policies,dc=signet,dc=test"
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by dn.exact="cn=signet,ou=services,dc=signet,dc=test" read by self read by * none
CONF
	/usr/sbin/slapadd -q -f "$d/slapd.conf" -l "$root/connector/ldap/testdata/directory.ldif" 2>"$d/slapadd.log" ||
		{ cat "$d/slapadd.log" >&2; ldap_log "slapadd failed"; return 1; }
	for _ in 1 2 3; do
		ldap_port="$(ci_free_port)"
		ldap_tlsport="$(ci_free_port)"
		[ "$ldap_port" != "$ldap_tlsport" ] || continue
		cat >"$d/slapdctl" <<CTL
#!/usr/bin/env bash
# Stops or starts the CI slapd in $d (written by .ci/ldap.sh).
set -euo pipefail
case "\${1:-}" in
stop)
	[ -s "$d/slapd.pid" ] || exit 0
	pid="\$(cat "$d/slapd.pid")"
	kill "\$pid" 2>/dev/null || exit 0
	for _ in \$(seq 1 100); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.1; done
	echo "slapd \$pid did not stop" >&2; exit 1 ;;
start)
	/usr/sbin/slapd -f "$d/slapd.conf" -h "ldap://127.0.0.1:$ldap_port/ ldaps://127.0.0.1:$ldap_tlsport/"
	for _ in \$(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$ldap_port") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$ldap_tlsport") 2>/dev/null; then exit 0; fi
		sleep 0.1
	done
	echo "slapd did not start on 127.0.0.1:$ldap_port" >&2; exit 1 ;;
*) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
		chmod 0700 "$d/slapdctl"
		if "$d/slapdctl" start 2>"$d/start.log"; then
			ldap_log "slapd $2 on ldap://127.0.0.1:$ldap_port and ldaps://127.0.0.1:$ldap_tlsport (in $d)"
			return 0
		fi
		"$d/slapdctl" stop 2>/dev/null || true
	done
	cat "$d/start.log" >&2
	ldap_log "slapd $2 did not start"
	return 1
}

ldap_start() {
	ldap_install
	SIGNET_LDAP_DIR="$(mktemp -d /tmp/signet-ldap.XXXXXX)"
	# Keep the traps of the scripts sourced before (backends.sh).
	local prev
	prev="$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")"
	# shellcheck disable=SC2064
	trap "ldap_stop; ${prev:-:}" EXIT
	ldap_certs "$SIGNET_LDAP_DIR"

	ldap_instance "$SIGNET_LDAP_DIR" main || return 1
	export SIGNET_TEST_LDAP_URL="ldap://127.0.0.1:$ldap_port"
	export SIGNET_TEST_LDAPS_URL="ldaps://127.0.0.1:$ldap_tlsport"
	export SIGNET_TEST_LDAP_CA="$SIGNET_LDAP_DIR/ca.pem"
	export SIGNET_TEST_LDAP_BASE_DN="dc=signet,dc=test"
	export SIGNET_TEST_LDAP_BIND_DN="cn=signet,ou=services,dc=signet,dc=test"
	export SIGNET_TEST_LDAP_BIND_PASSWORD=signet-bind-password
	export SIGNET_TEST_LDAP_ADMIN_DN="cn=admin,dc=signet,dc=test"
	export SIGNET_TEST_LDAP_ADMIN_PASSWORD=signet-admin-password
	# A second instance, for the restart test alone: stopping it breaks
	# no other test running at the same time.
	ldap_instance "$SIGNET_LDAP_DIR" restart || return 1
	export SIGNET_TEST_LDAP_RESTART_URL="ldaps://127.0.0.1:$ldap_tlsport"
	export SIGNET_TEST_LDAP_CTL="$SIGNET_LDAP_DIR/restart/slapdctl"
}

ldap_start

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	LDAPTLS_CACERT="$SIGNET_TEST_LDAP_CA" ldapsearch -x -LLL -H "$SIGNET_TEST_LDAPS_URL" \
		-D "$SIGNET_TEST_LDAP_BIND_DN" -w "$SIGNET_TEST_LDAP_BIND_PASSWORD" \
		-b "ou=people,$SIGNET_TEST_LDAP_BASE_DN" '(uid=alice)' dn | grep -q '^dn: uid=alice'
	ldap_log "the directory answers over ldaps"
fi
