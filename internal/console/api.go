package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/stages/snapshot"
	"github.com/edgeprivacy/edge/zones"
)

// maxBody bounds a change request; a zone list is a few kilobytes.
const maxBody = 1 << 20

// Handler routes every path of the console.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)

	api := http.NewServeMux()
	api.HandleFunc("GET /api/cameras", s.cameras)
	api.HandleFunc("GET /api/cameras/{id}", s.camera)
	api.HandleFunc("GET /api/cameras/{id}/frame.jpg", s.frame)
	api.HandleFunc("PUT /api/cameras/{id}/zones", s.putZones)
	api.HandleFunc("GET /api/events", s.events)
	api.HandleFunc("GET /api/events/stream", s.stream)
	api.HandleFunc("GET /api/config", s.config)
	api.HandleFunc("GET /api/signage", s.signage)
	api.HandleFunc("POST /api/signage", s.addSign)
	api.HandleFunc("PUT /api/signage/{id}", s.putSign)
	api.HandleFunc("DELETE /api/signage/{id}", s.deleteSign)
	api.HandleFunc("GET /api/audit", s.audit)
	if s.cfg.Metrics != nil {
		api.Handle("GET /metrics", s.cfg.Metrics)
	}
	api.Handle("GET /", s.static())
	mux.Handle("/", s.guard(api))
	return headers(mux)
}

// headers keeps the pages to this box: nothing is loaded from elsewhere and
// no other site may frame them.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client has gone; nothing to tell it
}

// problem is one thing wrong with a request or a change.
type problem struct {
	Path string `json:"path"`
	Msg  string `json:"message"`
	Fix  string `json:"fix,omitempty"`
}

func writeProblems(w http.ResponseWriter, code int, ps ...problem) {
	writeJSON(w, code, map[string]any{"problems": ps})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.cfg.Backend.Ready(); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// zoneView is a zone as the console shows it.
type zoneView struct {
	ID              string      `json:"id"`
	Kind            string      `json:"kind"`
	Signage         string      `json:"signage,omitempty"`
	Polygon         [][]float64 `json:"polygon"`
	SignageStatus   string      `json:"signage_status,omitempty"`
	DetectionActive bool        `json:"detection_active"`
	Occupancy       int         `json:"occupancy"`
}

// signView is a registered sign and where it stands.
type signView struct {
	ID            string    `json:"id"`
	Text          string    `json:"text,omitempty"`
	Location      string    `json:"location,omitempty"`
	Purpose       string    `json:"purpose"`
	PurposeDetail string    `json:"purpose_detail,omitempty"`
	Operator      string    `json:"operator,omitempty"`
	VerifiedAt    time.Time `json:"verified_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	Status        string    `json:"status"`
	// DaysLeft is whole days to expiry (negative once expired).
	DaysLeft int `json:"days_left"`
	// UsedBy names the cameras and zones that refer to the sign.
	UsedBy []string `json:"used_by"`
}

type cameraView struct {
	ID      string   `json:"id"`
	Enabled bool     `json:"enabled"`
	Status  string   `json:"status"`
	Reason  string   `json:"reason,omitempty"`
	Width   int      `json:"width,omitempty"`
	Height  int      `json:"height,omitempty"`
	FPS     float64  `json:"input_fps"`
	Decoded uint64   `json:"frames_decoded"`
	Masked  uint64   `json:"frames_masked"`
	Dropped uint64   `json:"frames_dropped"`
	Outputs []string `json:"outputs"`
	// Signage is the camera's own sign, which gates every picture of it.
	Signage *signView `json:"signage,omitempty"`
	// ViewAllowed says whether the console may show the masked picture now;
	// ViewReason says why not.
	ViewAllowed bool       `json:"view_allowed"`
	ViewReason  string     `json:"view_reason,omitempty"`
	MaskColor   [3]int     `json:"mask_color"`
	Zones       []zoneView `json:"zones"`
}

func (s *Server) signView(cfg *configs.Config, sg configs.Sign, now time.Time) signView {
	v := signView{ID: sg.ID, Text: sg.Text, Location: sg.Location, Purpose: sg.Purpose, PurposeDetail: sg.PurposeDetail,
		Operator: sg.Operator, VerifiedAt: sg.VerifiedAt, ExpiresAt: sg.ExpiresAt,
		Status: string(sg.ToZones().StatusAt(now)), UsedBy: []string{}}
	if !sg.ExpiresAt.IsZero() {
		v.DaysLeft = int(math.Floor(sg.ExpiresAt.Sub(now).Hours() / 24))
	}
	for _, u := range cfg.SignUsers(sg.ID) {
		if u.Zone == "" {
			v.UsedBy = append(v.UsedBy, u.Camera) // the camera's image outputs
		} else {
			v.UsedBy = append(v.UsedBy, u.Camera+"/"+u.Zone)
		}
	}
	return v
}

func (s *Server) cameraView(cfg *configs.Config, c *configs.Camera, now time.Time) cameraView {
	v := cameraView{ID: c.ID, Enabled: c.IsEnabled(), Status: events.StatusStopped, Outputs: c.ImageOutputs(), MaskColor: c.Mask.Color, Zones: []zoneView{}}
	if v.Outputs == nil {
		v.Outputs = []string{}
	}
	st, hasState := s.cfg.Events.State(c.ID)
	if hasState && c.IsEnabled() {
		v.Status, v.Reason, v.Width, v.Height, v.FPS = st.Status, st.Reason, st.Width, st.Height, st.InputFPS
		v.Decoded, v.Masked, v.Dropped = st.FramesDecoded, st.FramesMasked, st.FramesDropped
	} else if c.IsEnabled() {
		v.Status = events.StatusConnecting
	}
	if i := slices.IndexFunc(cfg.Signage, func(sg configs.Sign) bool { return sg.ID == c.Signage }); i >= 0 {
		sv := s.signView(cfg, cfg.Signage[i], now)
		v.Signage = &sv
	}
	v.ViewAllowed, v.ViewReason = s.cfg.Backend.ViewAllowed(c.ID)
	signs := cfg.SignMap()
	for _, z := range c.Zones {
		zv := zoneView{ID: z.ID, Kind: z.Kind, Signage: z.Signage, Polygon: z.Polygon}
		if zones.Kind(z.Kind) == zones.Monitored {
			zv.SignageStatus = string(zones.SignMissing)
			if sg, ok := signs[z.Signage]; ok {
				zv.SignageStatus = string(sg.StatusAt(now))
			}
			for _, zs := range st.Zones {
				if zs.ID == z.ID {
					zv.DetectionActive, zv.Occupancy = zs.DetectionActive, zs.Occupancy
				}
			}
		} else {
			zv.Signage = ""
		}
		v.Zones = append(v.Zones, zv)
	}
	return v
}

func (s *Server) cameras(w http.ResponseWriter, _ *http.Request) {
	cfg, now := s.cfg.Backend.Config(), s.cfg.Now()
	out := make([]cameraView, 0, len(cfg.Cameras))
	for i := range cfg.Cameras {
		out = append(out, s.cameraView(cfg, &cfg.Cameras[i], now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) camera(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg.Backend.Config()
	c, ok := cfg.Camera(r.PathValue("id"))
	if !ok {
		writeProblems(w, http.StatusNotFound, problem{Path: "cameras", Msg: fmt.Sprintf("no camera %q", r.PathValue("id"))})
		return
	}
	writeJSON(w, http.StatusOK, s.cameraView(cfg, c, s.cfg.Now()))
}

// frame serves the camera's newest masked frame as a JPEG. The picture comes
// from a *mask.Frame and nowhere else, and only while the camera's sign is valid.
func (s *Server) frame(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg.Backend.Config()
	c, ok := cfg.Camera(r.PathValue("id"))
	if !ok {
		http.Error(w, "no such camera", http.StatusNotFound)
		return
	}
	if ok, why := s.cfg.Backend.ViewAllowed(c.ID); !ok {
		http.Error(w, why, http.StatusForbidden)
		return
	}
	f := s.cfg.Backend.Latest(c.ID)
	if f == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "no masked frame yet (the camera is connecting or restarting)", http.StatusServiceUnavailable)
		return
	}
	seq, size, stamp := f.Seq(), f.Size(), f.Stamp()
	b, err := snapshot.JPEG(f, nil, 0, 85)
	f.Close()
	if err != nil {
		http.Error(w, "jpeg: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if stamp.Stale() {
		// A privacy change was applied while the picture was made. (Not
		// held over the write: a slow browser must not hold up a reload.)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "privacy zones changed; the next masked frame is on its way", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Seq", strconv.FormatUint(seq, 10))
	h.Set("X-Frame-Size", fmt.Sprintf("%dx%d", size.X, size.Y))
	_, _ = w.Write(b)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		writeProblems(w, http.StatusBadRequest, problem{Path: "query", Msg: err.Error()})
		return
	}
	source := r.URL.Query().Get("source")
	var evs []events.Event
	switch source {
	case "", "memory":
		source = "memory"
		evs = s.cfg.Events.Recent(q)
	case "audit":
		if s.cfg.AuditPath == "" {
			writeProblems(w, http.StatusNotFound, problem{Path: "source", Msg: "the audit log is off", Fix: "start edge run with --audit FILE"})
			return
		}
		if evs, err = auditEvents(s.cfg.AuditPath, q); err != nil {
			writeProblems(w, http.StatusInternalServerError, problem{Path: "source", Msg: err.Error()})
			return
		}
	default:
		writeProblems(w, http.StatusBadRequest, problem{Path: "source", Msg: fmt.Sprintf("source %q", source), Fix: "use memory (recent, the default) or audit"})
		return
	}
	if evs == nil {
		evs = []events.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"source": source, "events": evs})
}

// stream sends events and camera states as they happen (server-sent events).
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := s.cfg.Events.subscribe()
	if ch == nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.cfg.Events.unsubscribe(ch)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	fmt.Fprint(w, ": edge events\n\n")
	fl.Flush()
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.kind, compact(m.data))
		case <-beat.C:
			fmt.Fprint(w, ": keepalive\n\n")
		}
		fl.Flush()
	}
}

func compact(b []byte) []byte {
	var buf = make([]byte, 0, len(b))
	for _, c := range b {
		if c != '\n' { // one SSE data line; JSON escapes newlines in strings
			buf = append(buf, c)
		}
	}
	return buf
}

func (s *Server) config(w http.ResponseWriter, _ *http.Request) {
	path, raw := s.cfg.Backend.ConfigFile()
	doc, err := configs.RedactYAML(raw)
	if err != nil {
		writeProblems(w, http.StatusInternalServerError, problem{Path: "config", Msg: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"file": path, "config": doc})
}

func (s *Server) signage(w http.ResponseWriter, _ *http.Request) {
	cfg, now := s.cfg.Backend.Config(), s.cfg.Now()
	out := make([]signView, 0, len(cfg.Signage))
	for _, sg := range cfg.Signage {
		out = append(out, s.signView(cfg, sg, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AuditPath == "" {
		writeJSON(w, http.StatusOK, map[string]any{"enabled": false, "records": []any{}})
		return
	}
	n := 200
	if v := r.URL.Query().Get("limit"); v != "" {
		if k, err := strconv.Atoi(v); err == nil && k > 0 && k <= MaxEvents {
			n = k
		} else {
			writeProblems(w, http.StatusBadRequest, problem{Path: "limit", Msg: fmt.Sprintf("limit %q", v), Fix: fmt.Sprintf("use 1 to %d", MaxEvents)})
			return
		}
	}
	kind := r.URL.Query().Get("kind")
	recs, err := auditRecords(s.cfg.AuditPath, n, func(k string, _ []byte) bool { return kind == "" || k == kind })
	if err != nil {
		writeProblems(w, http.StatusInternalServerError, problem{Path: "audit", Msg: err.Error()})
		return
	}
	slices.Reverse(recs) // newest first
	writeJSON(w, http.StatusOK, map[string]any{"enabled": true, "records": recs})
}

// decodeBody reads a JSON body strictly: an unknown field is a typo that
// would otherwise be dropped silently.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeProblems(w, http.StatusBadRequest, problem{Path: "body", Msg: err.Error(), Fix: "send JSON as documented in README (Operator console and API)"})
		return false
	}
	return true
}

// zoneInput is a zone as the editor sends it.
type zoneInput struct {
	ID      string      `json:"id"`
	Kind    string      `json:"kind"`
	Signage string      `json:"signage"`
	Polygon [][]float64 `json:"polygon"`
}

func (s *Server) putZones(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in []zoneInput
	if !decodeBody(w, r, &in) {
		return
	}
	zs := make([]configs.Zone, len(in))
	for i, z := range in {
		zs[i] = configs.Zone{ID: z.ID, Kind: z.Kind, Signage: z.Signage, Polygon: z.Polygon}
	}
	action := fmt.Sprintf("zones of camera %s replaced: %s", id, zoneSummary(zs))
	s.change(w, r, action, func(raw []byte) ([]byte, error) { return configs.SetZones(raw, id, zs) })
}

func zoneSummary(zs []configs.Zone) string {
	if len(zs) == 0 {
		return "none"
	}
	b, _ := json.Marshal(zs) // ids, kinds, signs and polygons: what an inspector needs to see
	return string(b)
}

// signInput is a sign as the console sends it; times are RFC 3339 or a date.
type signInput struct {
	ID            string `json:"id"`
	Text          string `json:"text"`
	Location      string `json:"location"`
	Purpose       string `json:"purpose"`
	PurposeDetail string `json:"purpose_detail"`
	Operator      string `json:"operator"`
	VerifiedAt    string `json:"verified_at"`
	ExpiresAt     string `json:"expires_at"`
}

func (in signInput) sign() (configs.Sign, []problem) {
	sg := configs.Sign{ID: in.ID, Text: in.Text, Location: in.Location, Purpose: in.Purpose,
		PurposeDetail: in.PurposeDetail, Operator: in.Operator}
	var ps []problem
	for _, f := range []struct {
		key, val string
		dst      *time.Time
	}{{"verified_at", in.VerifiedAt, &sg.VerifiedAt}, {"expires_at", in.ExpiresAt, &sg.ExpiresAt}} {
		if f.val == "" {
			continue // validation names it missing
		}
		t, err := time.Parse(time.RFC3339, f.val)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, f.val); err != nil {
				ps = append(ps, problem{Path: "signage[" + in.ID + "]." + f.key, Msg: fmt.Sprintf("time %q is not RFC 3339", f.val), Fix: "write it like 2026-01-01T00:00:00Z or 2026-01-01"})
				continue
			}
		}
		*f.dst = t.UTC()
	}
	return sg, ps
}

func (s *Server) addSign(w http.ResponseWriter, r *http.Request) {
	var in signInput
	if !decodeBody(w, r, &in) {
		return
	}
	if slices.ContainsFunc(s.cfg.Backend.Config().Signage, func(sg configs.Sign) bool { return sg.ID == in.ID }) {
		writeProblems(w, http.StatusConflict, problem{Path: "signage[" + in.ID + "].id", Msg: fmt.Sprintf("sign %q is already registered", in.ID), Fix: "edit it with PUT /api/signage/" + in.ID + ", or choose another id"})
		return
	}
	s.putSignAs(w, r, in, "sign %s added")
}

func (s *Server) putSign(w http.ResponseWriter, r *http.Request) {
	var in signInput
	if !decodeBody(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	if in.ID == "" {
		in.ID = id
	}
	if in.ID != id {
		writeProblems(w, http.StatusBadRequest, problem{Path: "signage[" + id + "].id", Msg: fmt.Sprintf("body names sign %q, path names %q", in.ID, id), Fix: "a sign's id cannot change: add a new sign and delete this one"})
		return
	}
	if !slices.ContainsFunc(s.cfg.Backend.Config().Signage, func(sg configs.Sign) bool { return sg.ID == id }) {
		writeProblems(w, http.StatusNotFound, problem{Path: "signage", Msg: fmt.Sprintf("no sign %q", id), Fix: "add it with POST /api/signage"})
		return
	}
	s.putSignAs(w, r, in, "sign %s edited")
}

func (s *Server) putSignAs(w http.ResponseWriter, r *http.Request, in signInput, action string) {
	sg, ps := in.sign()
	if len(ps) > 0 {
		writeProblems(w, http.StatusUnprocessableEntity, ps...)
		return
	}
	b, _ := json.Marshal(sg)
	s.change(w, r, fmt.Sprintf(action, sg.ID)+": "+string(b), func(raw []byte) ([]byte, error) { return configs.PutSign(raw, sg) })
}

func (s *Server) deleteSign(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.change(w, r, "sign "+id+" removed", func(raw []byte) ([]byte, error) { return configs.DeleteSign(raw, id) })
}

// change hands an edit to the backend and answers with the cameras as they
// now are, or with every problem of a rejected change.
func (s *Server) change(w http.ResponseWriter, r *http.Request, action string, edit func([]byte) ([]byte, error)) {
	user := userOf(r.Context())
	err := s.cfg.Backend.Change(r.Context(), user, action, edit)
	var ve *configs.ValidationError
	var de *configs.DecodeError
	switch {
	case err == nil:
		s.log.Info("config changed from the console", "user", user, "change", action)
		s.cameras(w, r)
	case errors.As(err, &ve):
		ps := make([]problem, len(ve.Problems))
		for i, p := range ve.Problems {
			ps[i] = problem{Path: p.Path, Msg: p.Msg, Fix: p.Fix}
		}
		writeProblems(w, http.StatusUnprocessableEntity, ps...)
	case errors.As(err, &de):
		ps := make([]problem, len(de.Problems))
		for i, p := range de.Problems {
			ps[i] = problem{Msg: p}
		}
		writeProblems(w, http.StatusUnprocessableEntity, ps...)
	case errors.Is(err, configs.ErrNotFound):
		writeProblems(w, http.StatusNotFound, problem{Msg: err.Error()})
	default:
		s.log.Error("console change failed", "user", user, "err", err)
		writeProblems(w, http.StatusInternalServerError, problem{Msg: err.Error()})
	}
}
