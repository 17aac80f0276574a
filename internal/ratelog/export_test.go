package ratelog

// NewEvery is newEvery, for the tests.
var NewEvery = newEvery
