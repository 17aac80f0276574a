package natstest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/natstest"
)

// helperEnv makes TestStartHelper start a cluster; the other tests run it
// in a child process with a PATH that has no nats-server.
const helperEnv = "NATSTEST_START_HELPER"

func TestStartHelper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestStartWithoutNATSServer")
	}
	natstest.Start(t, 3)
	t.Log("started")
}

// TestStartWithoutNATSServer: without nats-server a test that needs it is
// skipped with a message that says why, and fails instead under CI, where
// make test has installed it.
func TestStartWithoutNATSServer(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "SKIPPED, nats-server not installed"},
		{"true", true, "nats-server not found and CI is set"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartHelper$", "-test.v")
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "CI=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, helperEnv+"=1", "PATH="+t.TempDir(), "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "started") {
			t.Errorf("CI=%q: error %v, want failed=%v and %q in:\n%s", tc.ci, err, tc.wantFail, tc.want, out)
		}
		if !tc.wantFail && !strings.Contains(string(out), "--- SKIP: TestStartHelper") {
			t.Errorf("CI=%q: not reported as skipped:\n%s", tc.ci, out)
		}
	}
}
