// Package configs loads and validates the edge configuration.
//
// viper only loads: each Load uses a fresh viper.New(), reads one YAML file,
// applies EDGE_* environment overrides for the keys in EnvKeys, and
// unmarshals exactly into typed structs, so that an unknown key (usually a
// typo that would silently disable a privacy zone) is an error. Defaults are
// then filled in and Validate reports every problem at once, each naming the
// camera, zone and key and saying how to fix it.
//
// Validation carries the legal rules that can be checked before a camera
// runs: a camera whose view is wholly private is refused, monitored zones
// need registered signage, and ids are safe MQTT topic levels.
//
// Credentials never reach a log: internal/redact hides user:password in URLs, and
// Config, MQTT and Camera format themselves (String, GoString, LogValue)
// without passwords.
package configs
