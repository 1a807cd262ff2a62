// Package fleet carries inventory deltas from sensors to one aggregator
// over NATS JetStream. A sensor (Publisher) sends, at each checkpoint, the
// mergeable model state of the services it touched (store.EncodeDelta),
// never raw exchanges, so bandwidth grows with endpoints, not requests.
// Each delta is written to a bounded on-disk spool first and removed once
// the stream acknowledged it, so a server that is away only delays it.
// The aggregator (Aggregate) consumes the stream with a durable consumer,
// merges each delta into a store.DB together with the sensor's sequence in
// one transaction, and acknowledges only after the commit: a crash between
// the two redelivers a delta the sequence check then skips.
// Several aggregators may share the consumer: a leader lease (a key of a
// JetStream key-value bucket with a TTL) lets one of them consume, the
// others stand by (LeaseOptions).
package fleet

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go"
)

// Defaults of the stream and the consumer.
const (
	DefaultStream  = "SPECTER_DELTAS"
	DefaultDurable = "specter-aggregator"
	// SubjectPrefix is followed by the sensor id.
	SubjectPrefix = "specter.delta."
	// MaxDeltaBytes bounds a delta once decompressed; a larger one is
	// refused (a decompression bomb, or a model past any sane limit).
	MaxDeltaBytes = 256 << 20
)

// Headers of a delta message.
const (
	HeaderSensor       = "Specter-Sensor"
	HeaderHostname     = "Specter-Hostname"
	HeaderVersion      = "Specter-Version"
	HeaderSeq          = "Specter-Seq"
	HeaderSent         = "Specter-Sent"
	HeaderSpoolDropped = "Specter-Spool-Dropped"
	headerEncoding     = "Content-Encoding"
	encodingZstd       = "zstd"
)

// sensorIDPattern keeps a sensor id usable as a subject token and a file
// name.
var sensorIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidSensorID reports why id cannot name a sensor, nil when it can.
func ValidSensorID(id string) error {
	if !sensorIDPattern.MatchString(id) {
		return fmt.Errorf("fleet: sensor id %q: want 1 to 64 of A-Z a-z 0-9 _ -", id)
	}
	return nil
}

// MsgID is the JetStream de-duplication id of a sensor's delta.
func MsgID(sensor string, seq uint64) string { return sensor + "-" + strconv.FormatUint(seq, 10) }

// header is what travels with a delta (message headers, spool file head).
type header struct {
	Sensor       string    `json:"sensor"`
	Hostname     string    `json:"hostname"`
	Version      string    `json:"version"`
	Seq          uint64    `json:"seq"`
	Sent         time.Time `json:"sent"`
	SpoolDropped uint64    `json:"spool_dropped"`
}

func (h *header) natsHeader() nats.Header {
	nh := nats.Header{}
	nh.Set(HeaderSensor, h.Sensor)
	nh.Set(HeaderHostname, h.Hostname)
	nh.Set(HeaderVersion, h.Version)
	nh.Set(HeaderSeq, strconv.FormatUint(h.Seq, 10))
	nh.Set(HeaderSent, h.Sent.UTC().Format(time.RFC3339Nano))
	nh.Set(HeaderSpoolDropped, strconv.FormatUint(h.SpoolDropped, 10))
	nh.Set(headerEncoding, encodingZstd)
	nh.Set(nats.MsgIdHdr, MsgID(h.Sensor, h.Seq))
	return nh
}

// parseHeader reads a delta message's headers, naming the first bad one.
func parseHeader(nh nats.Header) (header, error) {
	var h header
	h.Sensor = nh.Get(HeaderSensor)
	if err := ValidSensorID(h.Sensor); err != nil {
		return h, fmt.Errorf("header %s: %w", HeaderSensor, err)
	}
	h.Hostname, h.Version = nh.Get(HeaderHostname), nh.Get(HeaderVersion)
	var err error
	if h.Seq, err = strconv.ParseUint(nh.Get(HeaderSeq), 10, 63); err != nil || h.Seq == 0 {
		return h, fmt.Errorf("header %s: %q is not a sequence number", HeaderSeq, nh.Get(HeaderSeq))
	}
	if h.Sent, err = time.Parse(time.RFC3339Nano, nh.Get(HeaderSent)); err != nil {
		return h, fmt.Errorf("header %s: %w", HeaderSent, err)
	}
	if v := nh.Get(HeaderSpoolDropped); v != "" {
		if h.SpoolDropped, err = strconv.ParseUint(v, 10, 64); err != nil {
			return h, fmt.Errorf("header %s: %w", HeaderSpoolDropped, err)
		}
	}
	if e := nh.Get(headerEncoding); e != encodingZstd {
		return h, fmt.Errorf("header %s: %q, want %q", headerEncoding, e, encodingZstd)
	}
	return h, nil
}

var (
	encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	decoder, _ = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(MaxDeltaBytes), zstd.WithDecoderConcurrency(1))
)

// compress and decompress carry the delta's JSON, which repeats its keys
// at every level.
func compress(b []byte) []byte { return encoder.EncodeAll(b, nil) }

func decompress(b []byte) ([]byte, error) {
	out, err := decoder.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	if len(out) > MaxDeltaBytes {
		return nil, fmt.Errorf("delta of %d bytes decompressed, over the %d limit", len(out), MaxDeltaBytes)
	}
	return out, nil
}
