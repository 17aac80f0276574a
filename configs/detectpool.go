package configs

import "runtime"

// DetectPool is the box's one pool of person-detection workers, shared by
// every camera (fair round robin, newest frame wins per camera; see
// detect.Pool).
type DetectPool struct {
	// Workers is how many detections run at once on the box. 0 means
	// DefaultDetectPoolWorkers.
	Workers int `mapstructure:"workers"`
}

// MaxDetectPoolWorkers bounds detect_pool.workers: more workers than that
// only add memory (a detector each) on any edge box.
const MaxDetectPoolWorkers = 256

// DefaultDetectPoolWorkers is every core but one (decode, masking and
// motion of every camera need it), and at least one.
func DefaultDetectPoolWorkers() int { return max(1, runtime.NumCPU()-1) }

func (p *DetectPool) applyDefaults() {
	if p.Workers == 0 {
		p.Workers = DefaultDetectPoolWorkers()
	}
}

func (p *DetectPool) validate(v *validator) {
	if p.Workers < 0 || p.Workers > MaxDetectPoolWorkers {
		v.add("detect_pool.workers", "set detect_pool.workers to 1..256, or leave it out for every core but one",
			"detect_pool.workers %d is outside 1..%d", p.Workers, MaxDetectPoolWorkers)
	}
}
