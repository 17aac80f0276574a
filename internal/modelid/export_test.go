package modelid

// Normalize is normalize, for the tests.
var Normalize = normalize
