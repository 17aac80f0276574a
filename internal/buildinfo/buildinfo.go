// Package buildinfo reads what the Go toolchain stamped into the running
// binary (module, VCS revision, dirty flag, build tags), for reports and
// recordings that must name the code that made them.
package buildinfo

import "runtime/debug"

// Info is the running binary's stamp. Revision is "unknown" when the binary
// was built outside a VCS checkout (or with -buildvcs=false).
type Info struct {
	Module, Version, GoVersion string
	Revision, Time             string
	Dirty                      bool
	Tags                       string
}

// Read returns the running binary's stamp.
func Read() Info {
	in := Info{Revision: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return in
	}
	in.Module, in.Version, in.GoVersion = bi.Main.Path, bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Dirty = s.Value == "true"
		case "-tags":
			in.Tags = s.Value
		}
	}
	return in
}

// RevisionLabel is the VCS revision, with "+dirty" when the tree had
// uncommitted changes.
func (in Info) RevisionLabel() string {
	if in.Dirty {
		return in.Revision + "+dirty"
	}
	return in.Revision
}
