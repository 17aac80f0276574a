package zones_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/zones"
)

var (
	t0       = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	verified = t0.Add(-24 * time.Hour)
	expires  = t0.Add(24 * time.Hour)
)

func TestSignStatusAt(t *testing.T) {
	s := zones.Sign{ID: "s1", VerifiedAt: verified, ExpiresAt: expires}
	forever := zones.Sign{ID: "s2", VerifiedAt: verified}
	tests := []struct {
		name string
		sign zones.Sign
		at   time.Time
		want zones.SignStatus
	}{
		{"before verification", s, verified.Add(-time.Nanosecond), zones.SignPending},
		{"at verification", s, verified, zones.SignValid},
		{"between", s, t0, zones.SignValid},
		{"just before expiry", s, expires.Add(-time.Nanosecond), zones.SignValid},
		{"exactly at expiry", s, expires, zones.SignExpired},
		{"after expiry", s, expires.Add(time.Hour), zones.SignExpired},
		{"no expiry", forever, expires.Add(1000 * time.Hour), zones.SignValid},
		{"no expiry, pending", forever, verified.Add(-time.Second), zones.SignPending},
		{"zero sign", zones.Sign{}, t0, zones.SignValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sign.StatusAt(tt.at); got != tt.want {
				t.Errorf("StatusAt(%v) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}

// testSet: a lobby (monitored, valid sign) whose right part overlaps a
// privacy zone (a door to changing rooms), a pool (monitored, sign expires
// at `expires`), a gym whose sign is not registered, and a café whose sign
// is verified only tomorrow.
func testSet() *zones.Set {
	zs := []zones.Zone{
		{ID: "door", Kind: zones.Privacy, Polygon: poly(0.4, 0, 0.6, 0, 0.6, 0.5, 0.4, 0.5)},
		{ID: "lobby", Kind: zones.Monitored, Signage: "sign-lobby", Polygon: poly(0, 0, 0.5, 0, 0.5, 0.5, 0, 0.5)},
		{ID: "pool", Kind: zones.Monitored, Signage: "sign-pool", Polygon: poly(0, 0.5, 1, 0.5, 1, 1, 0, 1)},
		{ID: "gym", Kind: zones.Monitored, Signage: "sign-gym", Polygon: poly(0.7, 0, 1, 0, 1, 0.5, 0.7, 0.5)},
		{ID: "cafe", Kind: zones.Monitored, Signage: "sign-cafe", Polygon: poly(0.6, 0, 0.7, 0, 0.7, 0.5, 0.6, 0.5)},
		{ID: "lobby-inner", Kind: zones.Monitored, Signage: "sign-lobby", Polygon: poly(0.1, 0.1, 0.2, 0.1, 0.2, 0.2, 0.1, 0.2)},
	}
	signs := map[string]zones.Sign{
		"sign-lobby": {ID: "sign-lobby", Purpose: "public safety", VerifiedAt: verified},
		"sign-pool":  {ID: "sign-pool", Purpose: "lifeguard support", VerifiedAt: verified, ExpiresAt: expires},
		"sign-cafe":  {ID: "sign-cafe", VerifiedAt: expires},
	}
	return zones.NewSet(zs, signs)
}

func ids(zs []zones.Zone) []string {
	var out []string
	for _, z := range zs {
		out = append(out, z.ID)
	}
	return out
}

func TestSetSignage(t *testing.T) {
	s := testSet()
	if got := ids(s.Privacy()); !slices.Equal(got, []string{"door"}) {
		t.Errorf("Privacy() = %v", got)
	}
	if got := ids(s.Monitored()); !slices.Equal(got, []string{"lobby", "pool", "gym", "cafe", "lobby-inner"}) {
		t.Errorf("Monitored() = %v", got)
	}
	tests := []struct {
		zone string
		at   time.Time
		want zones.SignStatus
	}{
		{"lobby", t0, zones.SignValid},
		{"pool", t0, zones.SignValid},
		{"pool", expires, zones.SignExpired},
		{"gym", t0, zones.SignMissing},
		{"cafe", t0, zones.SignPending},
		{"cafe", expires, zones.SignValid},
		{"door", t0, zones.SignMissing},
		{"nowhere", t0, zones.SignMissing},
	}
	for _, tt := range tests {
		t.Run(tt.zone+"@"+tt.at.Format(time.RFC3339), func(t *testing.T) {
			if got := s.SignageStatus(tt.zone, tt.at); got != tt.want {
				t.Errorf("SignageStatus = %q, want %q", got, tt.want)
			}
		})
	}
	if got := ids(s.ActiveAt(t0)); !slices.Equal(got, []string{"lobby", "pool", "lobby-inner"}) {
		t.Errorf("ActiveAt(t0) = %v", got)
	}
	if got := ids(s.ActiveAt(expires)); !slices.Equal(got, []string{"lobby", "cafe", "lobby-inner"}) {
		t.Errorf("ActiveAt(expires) = %v", got)
	}
	if sign, ok := s.SignFor("pool"); !ok || sign.Purpose != "lifeguard support" {
		t.Errorf("SignFor(pool) = %v, %v", sign, ok)
	}
	if _, ok := s.SignFor("gym"); ok {
		t.Error("SignFor(gym) found an unregistered sign")
	}
}

func TestSetPrecedence(t *testing.T) {
	s := testSet()
	const w, h = 100, 50
	priv := s.PrivacyMask(w, h)
	an := s.AnalysisMask(w, h, t0)
	checkSpans(t, an)
	// The door covers x 0.4..0.6, y 0..0.5: pixels 39..60 (conservative),
	// rows 0..25. The lobby ends at x 0.5, inside the door.
	for y := range h {
		for x := range w {
			if priv.Contains(x, y) && an.Contains(x, y) {
				t.Fatalf("pixel %d,%d is both private and analysed", x, y)
			}
		}
	}
	if an.Contains(45, 10) || !an.Contains(20, 10) || an.Contains(38, 10) != true {
		t.Errorf("lobby/door boundary wrong: 45→%v 20→%v 38→%v", an.Contains(45, 10), an.Contains(20, 10), an.Contains(38, 10))
	}
	if an.Contains(39, 10) {
		t.Error("pixel 39 touches the door (x=0.4 is its right edge) but is analysed")
	}
	if an.Contains(80, 10) || an.Contains(65, 10) {
		t.Error("gym (no sign) or café (pending) pixels are analysed")
	}
	if !an.Contains(50, 40) {
		t.Error("pool pixel not analysed while its sign is valid")
	}
	later := s.AnalysisMask(w, h, expires)
	if later.Contains(50, 40) || !later.Contains(65, 10) {
		t.Error("after expiry: pool still analysed or café not yet")
	}
	if s.AnalysisMask(w, h, t0.Add(time.Minute)) != an {
		t.Error("AnalysisMask not cached for the same active set")
	}
	if s.PrivacyMask(w, h) != priv {
		t.Error("PrivacyMask not cached")
	}

	pts := []struct {
		name string
		pt   zones.Point
		at   time.Time
		want []string
	}{
		{"lobby", zones.Point{X: 0.3, Y: 0.3}, t0, []string{"lobby"}},
		{"lobby and inner", zones.Point{X: 0.15, Y: 0.15}, t0, []string{"lobby", "lobby-inner"}},
		{"overlap of lobby and door", zones.Point{X: 0.45, Y: 0.25}, t0, nil},
		{"door edge", zones.Point{X: 0.4, Y: 0.25}, t0, nil},
		{"pool", zones.Point{X: 0.5, Y: 0.75}, t0, []string{"pool"}},
		{"pool expired", zones.Point{X: 0.5, Y: 0.75}, expires, nil},
		{"gym without sign", zones.Point{X: 0.8, Y: 0.25}, t0, nil},
		{"café pending", zones.Point{X: 0.65, Y: 0.25}, t0, nil},
	}
	for _, tt := range pts {
		t.Run(tt.name, func(t *testing.T) {
			got := s.ZonesAt(tt.pt, tt.at)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ZonesAt = %v, want %v", got, tt.want)
			}
			id, ok := s.Assign(tt.pt, tt.at)
			if ok != (len(tt.want) > 0) || (ok && id != tt.want[0]) {
				t.Errorf("Assign = %q, %v; want first of %v", id, ok, tt.want)
			}
		})
	}
}

func TestSetCopiesInput(t *testing.T) {
	zs := []zones.Zone{{ID: "p", Kind: zones.Privacy, Polygon: poly(0, 0, 1, 0, 1, 1)}}
	s := zones.NewSet(zs, nil)
	zs[0].Polygon[0] = zones.Point{X: 0.5, Y: 0.5}
	if s.Privacy()[0].Polygon[0] != (zones.Point{}) {
		t.Error("NewSet kept a reference to the caller's polygon")
	}
}

func TestMaskCacheConcurrent(t *testing.T) {
	c := zones.NewMaskCache([]zones.Polygon{poly(0.1, 0.1, 0.9, 0.2, 0.5, 0.9)})
	sizes := [][2]int{{1920, 1080}, {640, 360}, {1280, 720}}
	got := make([][]*zones.Mask, 8)
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() {
			for _, sz := range sizes {
				got[g] = append(got[g], c.Get(sz[0], sz[1]))
			}
		})
	}
	wg.Wait()
	for i, sz := range sizes {
		m := got[0][i]
		if m.W != sz[0] || m.H != sz[1] || m.Count() == 0 {
			t.Fatalf("Get(%v) = %dx%d with %d pixels", sz, m.W, m.H, m.Count())
		}
		for g := range got {
			if got[g][i] != m {
				t.Fatalf("goroutine %d got a different mask for %v: rasterised twice", g, sz)
			}
		}
	}
	// Beyond the bound, old sizes are dropped and rebuilt, still correct.
	for w := 1; w <= 40; w++ {
		if m := c.Get(w, 10); m.W != w || m.Count() == 0 {
			t.Fatalf("Get(%d,10) wrong", w)
		}
	}
	if m := c.Get(1920, 1080); m.Count() != got[0][0].Count() {
		t.Error("rebuilt mask differs")
	}
}
