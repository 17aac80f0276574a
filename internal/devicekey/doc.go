// Package devicekey holds this box's Ed25519 signing key and signs with it in
// minisign's format, so anyone can check a signature with the stock
// `minisign -V` tool and the public key that `edge key show` prints, without
// our binary.
//
// The key is created on first use (LoadOrCreate): the file is written 0600
// in a folder created 0700, and Load refuses a key file that group or others
// can read, as ssh does, because a readable key lets anyone forge reports.
// The file holds only the 32-byte Ed25519 seed; the public key, the minisign
// key id and the fingerprint are all derived from it.
//
// Users: signed verify reports (internal/verify) and signed audit-log
// checkpoints.
package devicekey
