package publish

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// tlsFiles is the TLS configuration made from the PEM files, remade when the
// files change, so that a box's client certificate can be rotated without a
// restart.
type tlsFiles struct {
	files TLS

	mu    sync.Mutex
	cfg   *tls.Config // nil without TLS files
	stamp string      // size and modification time of every file
}

func newTLSFiles(t TLS) (*tlsFiles, error) {
	f := &tlsFiles{files: t}
	if t == (TLS{}) {
		return f, nil
	}
	c, err := t.tlsConfig()
	if err != nil {
		return nil, err
	}
	f.cfg, f.stamp = c, t.stamp()
	return f, nil
}

func (f *tlsFiles) current() *tls.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// reload remakes the configuration when a file changed. changed reports a
// new configuration; err a change whose files do not load (the old
// configuration stays: a certificate half copied must not cut the box off).
func (f *tlsFiles) reload() (changed bool, err error) {
	if f.files == (TLS{}) {
		return false, nil
	}
	stamp := f.files.stamp()
	f.mu.Lock()
	same := stamp == f.stamp
	f.mu.Unlock()
	if same {
		return false, nil
	}
	c, err := f.files.tlsConfig()
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	f.cfg, f.stamp = c, stamp
	f.mu.Unlock()
	return true, nil
}

// stamp identifies the files' current contents cheaply.
func (t TLS) stamp() string {
	var s string
	for _, name := range []string{t.CA, t.Cert, t.Key} {
		if name == "" {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			s += name + ":missing;"
			continue
		}
		s += fmt.Sprintf("%s:%d:%d;", name, fi.Size(), fi.ModTime().UnixNano())
	}
	return s
}

// watchTLS checks the TLS files every TLSReloadInterval and asks maintain to
// reconnect with the new ones.
func (p *Publisher) watchTLS(ctx context.Context) {
	if p.cfg.TLS == (TLS{}) {
		return
	}
	t := time.NewTicker(p.cfg.TLSReloadInterval)
	defer t.Stop()
	var failedStamp string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := p.tls.reload()
		switch {
		case err != nil:
			// Say it once per broken state, not every few seconds.
			if s := p.cfg.TLS.stamp(); s != failedStamp {
				failedStamp = s
				p.log.Error("mqtt TLS files changed but do not load; keeping the previous ones", "err", err)
			}
		case changed:
			failedStamp = ""
			p.tlsReloads.Add(1)
			p.log.Info("mqtt TLS files reloaded")
			select {
			case p.redial <- struct{}{}:
			default:
			}
		}
	}
}
