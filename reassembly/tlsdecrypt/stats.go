package tlsdecrypt

import (
	"maps"
	"sort"
	"sync"
)

// Reason is why a connection's traffic could not be decrypted.
type Reason string

// Failure reasons.
const (
	// ReasonNoKey: the key log has no secret for the connection's client
	// random (or not the ones its version needs).
	ReasonNoKey Reason = "no_key"
	// ReasonUnsupportedSuite: the negotiated suite or version is not one
	// this package decrypts (Stats.Unsupported names it).
	ReasonUnsupportedSuite Reason = "unsupported_suite"
	// ReasonAuth: keys were found but records failed authentication (wrong
	// keys, or corrupted records).
	ReasonAuth Reason = "auth_failure"
	// ReasonGap: records were lost to a capture gap and decryption could
	// not resynchronize within its window.
	ReasonGap Reason = "gap"
	// ReasonNoHandshake: the capture starts after the hellos, so the
	// client random that names the keys is unknown.
	ReasonNoHandshake Reason = "no_handshake"
	// ReasonPendingOverflow: ciphertext waiting for keys exceeded
	// Config.MaxPending before the keys arrived.
	ReasonPendingOverflow Reason = "pending_overflow"
)

// Stats counts connections and records. Everything is counted when its
// connection closes (Conn.Close): each TLS connection lands in Decrypted,
// in exactly one Failed reason, or in HandshakeOnly.
type Stats struct {
	// Seen counts connections whose hellos were TLS (or whose records
	// were, for a capture starting mid-connection).
	Seen uint64 `json:"seen"`
	// WithKeys counts those for which the key log had the secrets.
	WithKeys uint64 `json:"with_keys"`
	// Decrypted counts those whose every encrypted record was decrypted.
	Decrypted uint64 `json:"decrypted"`
	// HandshakeOnly counts those that closed before any encrypted record.
	HandshakeOnly uint64 `json:"handshake_only"`
	// Failed counts the others by reason.
	Failed map[Reason]uint64 `json:"failed,omitempty"`
	// Unsupported counts ReasonUnsupportedSuite by suite (and version)
	// name.
	Unsupported map[string]uint64 `json:"unsupported,omitempty"`
	// MidConnection counts, of Seen, the TLS 1.3 connections first seen
	// after their hellos that were placed by trying the key log's recent
	// sessions (Config.MaxTrialSessions).
	MidConnection uint64 `json:"mid_connection"`
	// NotTLS counts connections fed to a Conn that were not TLS.
	NotTLS uint64 `json:"not_tls"`

	RecordsDecrypted uint64 `json:"records_decrypted"`
	RecordsFailed    uint64 `json:"records_failed"`  // failed authentication at every sequence number tried
	RecordsSkipped   uint64 `json:"records_skipped"` // ciphertext not decrypted: no key, unsupported suite, 0-RTT data
	PlaintextBytes   uint64 `json:"plaintext_bytes"` // application data delivered
	Resyncs          uint64 `json:"resyncs"`         // times decryption found its place again after a gap or a lost record
	PendingDropped   uint64 `json:"pending_dropped"` // bytes of ciphertext dropped waiting for keys
	// PendingTotalHits counts connections given up because all
	// connections together held Config.MaxPendingTotal bytes waiting for
	// keys.
	PendingTotalHits uint64 `json:"pending_total_hits"`
	// EarlyDataSkipped counts TLS 1.3 0-RTT records: the early traffic
	// secret is not used, so they are holes in the client's plaintext.
	EarlyDataSkipped uint64 `json:"early_data_skipped"`
}

// stats is the shared, locked copy of Stats.
type stats struct {
	mu sync.Mutex
	s  Stats
}

func (st *stats) add(f func(s *Stats)) {
	st.mu.Lock()
	f(&st.s)
	st.mu.Unlock()
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.s
	s.Failed = maps.Clone(st.s.Failed)
	s.Unsupported = maps.Clone(st.s.Unsupported)
	return s
}

// UnsupportedNames returns the unsupported suite names, most frequent
// first.
func (s Stats) UnsupportedNames() []string {
	names := make([]string, 0, len(s.Unsupported))
	for n := range s.Unsupported {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.Unsupported[names[i]], s.Unsupported[names[j]]
		if a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	return names
}
