// Package fleettest runs a real NATS JetStream server in the test's
// process, for the tests of the fleet transport and of its commands.
package fleettest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start runs an in-process nats-server with JetStream on 127.0.0.1:port,
// keeping its streams in dir (a restart on dir finds them again), until
// the test ends or the returned server is shut down.
func Start(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}
