package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/buildinfo"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/stages/mask"
)

// Build names the binary that wrote a report, so an inspector can tell which
// code judged the video: a version string can be set to anything, the VCS
// revision, the build tags and the binary's hash cannot be confused.
type Build struct {
	Module     string `json:"module"`
	Version    string `json:"module_version"`
	GoVersion  string `json:"go_version"`
	Revision   string `json:"vcs_revision"`
	Time       string `json:"vcs_time,omitempty"`
	Dirty      bool   `json:"vcs_modified"`
	Tags       string `json:"build_tags"`
	MaskShift  bool   `json:"maskshift_fault_injection"`
	BinarySHA  string `json:"binary_sha256"`
	BinaryPath string `json:"binary_path"`
	OpenCV     string `json:"opencv"`
	GoCV       string `json:"gocv"`
	FFmpeg     string `json:"ffmpeg"`
}

// CurrentBuild describes the running binary.
func CurrentBuild() Build {
	b := Build{BinarySHA: "unknown", OpenCV: gocv.OpenCVVersion(), GoCV: gocv.Version(),
		FFmpeg: mediafile.FFmpegVersion(), MaskShift: mask.FaultInjected}
	bi := buildinfo.Read()
	b.Module, b.Version, b.GoVersion, b.Revision, b.Time, b.Dirty, b.Tags = bi.Module, bi.Version, bi.GoVersion, bi.Revision, bi.Time, bi.Dirty, bi.Tags
	if exe, err := os.Executable(); err == nil {
		b.BinaryPath = exe
		if f, err := os.Open(exe); err == nil {
			h := sha256.New()
			if _, err := io.Copy(h, f); err == nil {
				b.BinarySHA = hex.EncodeToString(h.Sum(nil))
			}
			f.Close()
		}
	}
	return b
}

// WriteVersion is `edge version`: what an operator quotes in a bug report,
// and what an inspector compares with a report's build section.
func WriteVersion(w io.Writer, version string) {
	b := CurrentBuild()
	rev := b.Revision
	if b.Dirty {
		rev += "+dirty"
	}
	if b.Time != "" {
		rev += " (" + b.Time + ")"
	}
	fmt.Fprintf(w, "edge %s\n", version)
	fmt.Fprintf(w, "  revision  %s\n", rev)
	fmt.Fprintf(w, "  go        %s\n", b.GoVersion)
	fmt.Fprintf(w, "  opencv    %s (gocv %s)\n", b.OpenCV, b.GoCV)
	fmt.Fprintf(w, "  ffmpeg    %s\n", b.FFmpeg)
	if b.Tags != "" {
		fmt.Fprintf(w, "  tags      %s\n", b.Tags)
	}
}
