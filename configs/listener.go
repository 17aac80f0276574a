package configs

import (
	"net"
	"strconv"
	"strings"
)

// Listen-address rules shared by every server edge runs (the RTSP restream,
// the HTTP console): one rule for what an address may be, one for when it
// must ask for credentials.

// checkListenAddr reports an address that is not host:port with a usable host.
func checkListenAddr(v *validator, key, addr, example string) {
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		v.add(key, "write it as host:port, e.g. "+example, "address %q is not host:port", addr)
	} else if host != "" && net.ParseIP(host) == nil && !idPattern.MatchString(host) && host != "localhost" {
		v.add(key, "use an IP address of this machine, localhost, or leave the host empty for all", "host %q is not an IP address", host)
	}
}

// IsLoopback reports whether a listen address (host:port) is reachable only
// from this machine. An empty host listens on every interface, so it is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkListenAuth is the rule for credentials of a listener named by
// section: a username needs a password (an empty one would let anyone in
// who knows the name), a password needs a username, and an address other
// machines can reach needs both unless the operator has said
// allow_anonymous: true.
func checkListenAuth(v *validator, section, addr, username, password string, allowAnonymous bool) {
	switch {
	case username != "" && password == "":
		v.add(section+".password", "set "+section+".password, or the environment variable "+envName(section+".password")+" to keep it out of the file; or remove "+section+".username",
			"username %q has an empty password", username)
	case username == "" && password != "":
		v.add(section+".username", "set "+section+".username too, or remove "+section+".password", "password set without a username")
	case username == "" && !allowAnonymous && !IsLoopback(addr) && validHostPort(addr):
		v.add(section+".username", "set "+section+".username and "+section+".password, listen on 127.0.0.1, or set "+section+".allow_anonymous: true if the network is trusted",
			"%s listens on %q, reachable from other machines, without authentication", section, addr)
	}
}

// envName is the environment variable that overrides key (see EnvKeys).
func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// validHostPort: a malformed address is checkListenAddr's to report.
func validHostPort(addr string) bool {
	_, _, err := net.SplitHostPort(addr)
	return err == nil
}
