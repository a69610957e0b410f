# Sourced by the CI scripts that start a throw-away service
# (backends.sh, ldap.sh): ci_free_port prints a loopback port nothing
# listens on now.
ci_free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$(( (RANDOM % 30000) + 20000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
