// Package tlsdecrypt decrypts captured TLS connections with session keys
// the operator holds: NSS key log files (SSLKEYLOGFILE, as written by curl,
// browsers, Go's tls.Config.KeyLogWriter and eBPF tools) and the key logs
// that pcapng Decryption Secrets Blocks embed.
//
// A Conn is fed the two TCP byte streams of one connection, in order and in
// pieces. It parses the record layer and the cleartext handshake
// (ClientHello, ServerHello, HelloRetryRequest), derives the traffic keys
// (the TLS 1.3 key schedule with KeyUpdate; the TLS 1.2 PRF from the
// CLIENT_RANDOM master secret) and opens AES-128/256-GCM and
// ChaCha20-Poly1305 records, handing the application-data plaintext of each
// direction and the connection's metadata (SNI, ALPN, version, suite) to a
// Handler. Other suites (CBC, NULL, CCM, RC4, ...) are reported as
// unsupported by name and never produce plaintext.
//
// Key material is never logged, printed or kept beyond the KeyLog that
// holds it: errors and counters name a line, a label or a client random
// prefix, never a secret.
package tlsdecrypt
