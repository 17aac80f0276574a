package configs

import "cmp"

// Defaults of the audit log.
const (
	DefaultAuditDir               = "./state/audit"
	DefaultAuditMaxBytes          = 16 << 20
	DefaultAuditCheckpointMinutes = 10
)

// Audit configures the tamper-evident audit log (internal/audit). It is
// always on: an operator may move it, never switch it off.
type Audit struct {
	// Dir holds the audit files (0750 folder, 0640 files). It defaults to
	// ./state/audit (relative to the working directory).
	Dir string `mapstructure:"dir"`
	// MaxBytes is the size at which a file is closed and the next begun;
	// the chain runs on across files. At least 64 KiB; it defaults to 16 MiB.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// CheckpointMinutes is how often a checkpoint signed with the device key
	// is written (besides start and stop), 1..1440. It defaults to 10.
	CheckpointMinutes int `mapstructure:"checkpoint_minutes"`
}

func (a *Audit) applyDefaults() {
	a.Dir = cmp.Or(a.Dir, DefaultAuditDir)
	a.MaxBytes = cmp.Or(a.MaxBytes, DefaultAuditMaxBytes)
	a.CheckpointMinutes = cmp.Or(a.CheckpointMinutes, DefaultAuditCheckpointMinutes)
}

func (a *Audit) validate(v *validator) {
	if a.MaxBytes < 64<<10 {
		v.add("audit.max_bytes", "allow at least 65536 bytes per file (default 16 MiB)", "max_bytes %d is too small", a.MaxBytes)
	}
	if a.CheckpointMinutes < 1 || a.CheckpointMinutes > 1440 {
		v.add("audit.checkpoint_minutes", "use 1 to 1440 minutes (default 10)", "checkpoint_minutes %d is out of range", a.CheckpointMinutes)
	}
}
