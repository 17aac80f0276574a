// Package sizesweep holds the size sweep: a test that puts pictures of
// every width and height from 1 to 64 pixels, and a set of odd large
// sizes, through every stage that calls into C (decode, mask, motion, each
// detector kind, the H.264 encoder and JPEG snapshots). A size a stage
// cannot handle must be refused with an error, never crash the process:
// a fault inside cgo cannot be recovered and would stop every camera.
package sizesweep
