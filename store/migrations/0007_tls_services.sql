-- Schema v6: what the TLS handshakes told of each server name, with or
-- without keys: the services reached over TLS, by SNI (by server address
-- when the client sent none). ALPN protocols and versions are
-- comma-separated lists, at most 8 each; no key material is kept.
CREATE TABLE tls_services (
    sni       TEXT NOT NULL,
    server    TEXT NOT NULL,              -- 'addr:port', '' when sni is set
    first_server TEXT NOT NULL DEFAULT '', -- the first server address seen
    alpn      TEXT NOT NULL DEFAULT '',
    versions  TEXT NOT NULL DEFAULT '',
    conns     INTEGER NOT NULL DEFAULT 0,
    decrypted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sni, server)
);
