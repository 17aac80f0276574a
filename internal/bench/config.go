package bench

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// The zones of every bench camera, in fractions of the frame so that they fit
// any clip: the demo's (configs/demo.yaml), a privacy strip on the left and
// a signed walkway where vtest.mp4's pedestrians cross.
const (
	privacyPolygon   = "[[0, 0], [0.25, 0], [0.25, 1], [0, 1]]"
	monitoredPolygon = "[[0.26, 0.22], [1, 0.12], [1, 0.95], [0.26, 0.62]]"
)

// cameraID names bench camera i (0-based); the replayed clip has the same name.
func cameraID(i int) string { return fmt.Sprintf("cam%03d", i+1) }

// configYAML is the edge config of one trial: n cameras at rtspAddr, the
// embedded broker at brokerURL, state under dir.
func configYAML(n int, rtspAddr, brokerURL, dir string, outputs bool, restreamAddr string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "site: bench\nbox_id: bench\nmqtt: {broker: %q, spool_dir: %q, qos: 1}\n", brokerURL, dir+"/spool")
	fmt.Fprintf(&b, "http: {addr: \"off\"}\naudit: {dir: %q}\n", dir+"/audit")
	if outputs {
		fmt.Fprintf(&b, "restream: {addr: %q}\n", restreamAddr)
	}
	b.WriteString("cameras:\n")
	for i := range n {
		id := cameraID(i)
		fmt.Fprintf(&b, "  - id: %s\n    url: rtsp://%s/%s\n    transport: tcp\n", id, rtspAddr, id)
		if outputs {
			fmt.Fprintf(&b, "    signage: camera-sign\n    restream: true\n    snapshots: {enabled: true}\n    record: {enabled: true, dir: %q}\n", dir+"/recordings")
		}
		fmt.Fprintf(&b, "    zones:\n      - {id: private, kind: privacy, polygon: %s}\n      - {id: walkway, kind: monitored, signage: walkway-sign, polygon: %s}\n",
			privacyPolygon, monitoredPolygon)
	}
	// Signs valid from yesterday for a year, so the bench never runs into an expiry.
	from, to := now.UTC().Add(-24*time.Hour).Format(time.RFC3339), now.UTC().Add(365*24*time.Hour).Format(time.RFC3339)
	b.WriteString("signage:\n")
	for _, id := range []string{"walkway-sign", "camera-sign"} {
		fmt.Fprintf(&b, "  - {id: %s, text: \"CCTV benchmark\", location: bench, purpose: crowd-safety, purpose_detail: benchmark, operator: bench, verified_at: %s, expires_at: %s}\n", id, from, to)
	}
	return b.String()
}

// freeAddr is a loopback address with a port free at the time of asking.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("bench: find a free loopback port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}
