package detect

// SetHitThreshold lowers (or raises) the SVM margin a HOG window needs, so
// that calibration tests also see the weak boxes production never reports.
func SetHitThreshold(h *HOG, v float64) { h.hit = v }
