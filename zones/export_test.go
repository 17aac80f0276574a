package zones

// NewMaskCache is newMaskCache, for the tests.
var NewMaskCache = newMaskCache
