package mediafile

// SplitAnnexB is splitAnnexB, for the tests.
var SplitAnnexB = splitAnnexB
