package publish

import "time"

// SetNotConnectedWarn shortens the wait before the not-connected warning; it
// returns the function that restores it.
func SetNotConnectedWarn(d time.Duration) (restore func()) {
	old := notConnectedWarn
	notConnectedWarn = d
	return func() { notConnectedWarn = old }
}

// BrokerOrder exposes the per-box order of the broker nodes.
var BrokerOrder = brokerOrder

// ConnectTimeout exposes the time-out of one connection attempt.
var ConnectTimeout = connectTimeout
