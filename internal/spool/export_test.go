package spool

// WithSegmentSize is withSegmentSize, for the tests.
var WithSegmentSize = withSegmentSize
