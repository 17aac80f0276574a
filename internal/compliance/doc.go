// Package compliance decides, at run time, what each camera may do under its
// signs: image outputs (restream, recordings, snapshots) run only while the
// camera's own sign is valid, and monitored zones are analysed only while
// theirs are (the pipeline enforces that part itself). A Monitor re-checks
// every sign each second and on every config it is given; when a camera's
// sign expires it pauses the camera's outputs (restream clients are
// disconnected, the recording segment is finished, snapshots stop and the
// retained one is cleared), and resumes them when a renewed sign is loaded.
// Every change is published retained on {prefix}/{camera}/compliance,
// alerted on {prefix}/alerts and written to the audit log.
package compliance
