package modelid

// Normalize is normalize, for the tests.
var Normalize = normalize

// CascadeStructure is cascadeStructure, for the tests.
var CascadeStructure = cascadeStructure
