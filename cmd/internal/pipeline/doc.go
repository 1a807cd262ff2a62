// Package pipeline wires a source of traffic (a capture file, AF_PACKET
// rings, the eBPF tracer) to reassembly and hands the exchanges to sinks
// (the inventory, the store, the spec checker). It sits above capture,
// reassembly, infer and store, and below the commands: the lower packages
// never learn about each other's consumers.
package pipeline
