// Package realserver scores Specter on real servers driven by their own
// real clients: each case builds or finds a server nobody here wrote,
// starts it on loopback, drives it with that project's own client while
// tcpdump captures the loopback traffic, exports the inferred OpenAPI with
// the real specter binary and scores it with the shared benchmark's scorer
// against a ground truth built from the server's own published spec and
// the requests the client actually sent.
//
// Everything here is test code: the package has no API.
package realserver
