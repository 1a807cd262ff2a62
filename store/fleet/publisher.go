package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultSpoolLimit bounds the spool when PublisherOptions.SpoolLimit is 0.
const DefaultSpoolLimit = 256 << 20

// PublisherOptions configure a sensor's publisher.
type PublisherOptions struct {
	// URL is the NATS server (nats://host:port, or several, comma-separated).
	URL string
	// NATS are extra connection options: credentials, TLS.
	NATS []nats.Option
	// StateDir holds the sensor's state file (id, next sequence) and its
	// spool directory; it is created with mode 0700.
	StateDir string
	// SensorID names the sensor; "" keeps the id of the state file, or
	// generates one there the first time.
	SensorID string
	Hostname string
	Version  string
	// SpoolLimit bounds the bytes of the spool; past it the oldest deltas
	// are dropped (counted, and reported to the aggregator). 0 means
	// DefaultSpoolLimit.
	SpoolLimit int64
	// RetryEvery is how often a spool that could not be sent is retried;
	// 0 means 1 s.
	RetryEvery time.Duration
	// Logf reports what goes wrong in the background; nil discards.
	Logf func(format string, args ...any)
}

// PublisherStats are a publisher's counters.
type PublisherStats struct {
	SensorID     string
	Published    uint64 // deltas handed to Publish
	Sent         uint64 // deltas the stream acknowledged
	Dropped      uint64 // deltas dropped by the spool limit
	Bad          uint64 // spool files that did not parse (renamed .bad)
	SpoolDeltas  int    // deltas waiting in the spool
	SpoolBytes   int64
	LastSendErr  string
	Disconnected bool
}

// Publisher sends a sensor's deltas to the stream through its spool. It is
// safe for concurrent use.
type Publisher struct {
	opts     PublisherOptions
	dir      string // spool directory
	nc       *nats.Conn
	js       jetstream.JetStream
	kick     chan struct{}
	stop     chan struct{}
	loopDone chan struct{}
	sending  sync.Mutex // one drain at a time
	lock     *os.File   // flock of the state directory

	mu       sync.Mutex
	state    sensorState
	statePth string
	spool    []spoolEntry
	inflight string // the spool file being sent, never dropped meanwhile
	stats    PublisherStats
}

// sensorState is the state file: the sensor's id, and the next sequence,
// persisted before a delta carrying it is spooled.
type sensorState struct {
	ID      string `json:"id"`
	NextSeq uint64 `json:"next_seq"`
}

// NewPublisher loads or creates the sensor's state, reads the spool left
// by an earlier process and connects; a server that is not reachable yet
// is retried in the background while deltas wait in the spool.
func NewPublisher(opts PublisherOptions) (*Publisher, error) {
	if opts.StateDir == "" {
		return nil, errors.New("fleet: no state directory")
	}
	if opts.SpoolLimit <= 0 {
		opts.SpoolLimit = DefaultSpoolLimit
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	p := &Publisher{opts: opts, dir: filepath.Join(opts.StateDir, "spool"),
		statePth: filepath.Join(opts.StateDir, "sensor.json"),
		kick:     make(chan struct{}, 1), stop: make(chan struct{}), loopDone: make(chan struct{})}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	// Two processes on one state would send under one id and sequence.
	lock, err := os.OpenFile(filepath.Join(opts.StateDir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("fleet: state directory %s is in use by another sensor process: %w", opts.StateDir, err)
	}
	p.lock = lock
	if err := p.loadState(); err != nil {
		lock.Close()
		return nil, err
	}
	spool, err := listSpool(p.dir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	p.spool = spool
	for _, e := range spool {
		p.stats.SpoolBytes += e.size
		// A spool from an older state file must not reuse its sequences.
		if e.seq >= p.state.NextSeq {
			p.state.NextSeq = e.seq + 1
		}
	}
	p.stats.SensorID = p.state.ID
	nopts := append([]nats.Option{
		nats.Name("specter sensor " + p.state.ID),
		nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond),
		// No client-side buffer while disconnected: the spool is the
		// buffer, and a publish must fail rather than linger.
		nats.ReconnectBufSize(-1),
		nats.ReconnectHandler(func(*nats.Conn) { p.poke() }),
		nats.ConnectHandler(func(*nats.Conn) { p.poke() }),
	}, opts.NATS...)
	nc, err := nats.Connect(opts.URL, nopts...)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("fleet: connecting to %s: %w", opts.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		lock.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	p.nc, p.js = nc, js
	go p.loop()
	p.poke()
	return p, nil
}

// loadState reads the state file, creating it when missing.
func (p *Publisher) loadState() error {
	b, err := os.ReadFile(p.statePth)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("fleet: %w", err)
	default:
		if err := json.Unmarshal(b, &p.state); err != nil {
			return fmt.Errorf("fleet: state file %s: %w", p.statePth, err)
		}
	}
	if p.opts.SensorID != "" {
		p.state.ID = p.opts.SensorID
	}
	if p.state.ID == "" {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return fmt.Errorf("fleet: generating a sensor id: %w", err)
		}
		p.state.ID = "s-" + hex.EncodeToString(r[:])
	}
	if err := ValidSensorID(p.state.ID); err != nil {
		return err
	}
	if p.state.NextSeq == 0 {
		// A state file lost with its sensor id kept (--sensor-id) must not
		// restart at 1, where the aggregator would skip every delta as
		// already applied: a fresh state starts at the clock.
		p.state.NextSeq = uint64(time.Now().UnixMicro())
	}
	return p.saveState()
}

func (p *Publisher) saveState() error {
	b, err := json.Marshal(p.state)
	if err != nil {
		return err
	}
	if err := writeFileSync(p.statePth, b); err != nil {
		return fmt.Errorf("fleet: writing state file: %w", err)
	}
	return nil
}

// SensorID returns the sensor's id.
func (p *Publisher) SensorID() string { return p.state.ID }

// Publish spools one delta (store.EncodeDelta) under the next sequence and
// has it sent in the background. It fails only when the delta cannot be
// spooled (disk).
func (p *Publisher) Publish(ctx context.Context, delta []byte) error {
	payload := compress(delta)
	p.mu.Lock()
	defer p.mu.Unlock()
	h := header{Sensor: p.state.ID, Hostname: p.opts.Hostname, Version: p.opts.Version,
		Seq: p.state.NextSeq, Sent: time.Now().UTC(), SpoolDropped: p.stats.Dropped}
	p.state.NextSeq++
	// The sequence is taken for good before the delta can be sent.
	if err := p.saveState(); err != nil {
		return err
	}
	b, err := encodeSpool(&h, payload)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	name := spoolName(h.Seq)
	if err := writeFileSync(filepath.Join(p.dir, name), b); err != nil {
		return fmt.Errorf("fleet: spooling delta %d: %w", h.Seq, err)
	}
	p.spool = append(p.spool, spoolEntry{name: name, seq: h.Seq, size: int64(len(b))})
	p.stats.SpoolBytes += int64(len(b))
	p.stats.Published++
	p.enforceLimit()
	p.poke()
	return nil
}

// enforceLimit drops the oldest deltas while the spool is over its limit,
// keeping the newest one (the spool is never emptied by its own limit) and
// the one being sent. Called with mu held.
func (p *Publisher) enforceLimit() {
	for p.stats.SpoolBytes > p.opts.SpoolLimit && len(p.spool) > 1 {
		i := 0
		if p.spool[0].name == p.inflight {
			i = 1
		}
		if i >= len(p.spool)-1 {
			return
		}
		e := p.spool[i]
		if err := os.Remove(filepath.Join(p.dir, e.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			p.opts.Logf("fleet: spool: dropping %s: %v", e.name, err)
			return
		}
		p.spool = append(p.spool[:i], p.spool[i+1:]...)
		p.stats.SpoolBytes -= e.size
		p.stats.Dropped++
		p.opts.Logf("fleet: spool over %d bytes: dropped delta %d (%d dropped so far)", p.opts.SpoolLimit, e.seq, p.stats.Dropped)
	}
}

func (p *Publisher) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *Publisher) loop() {
	defer close(p.loopDone)
	t := time.NewTicker(p.opts.RetryEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
		case <-t.C:
		}
		p.mu.Lock()
		waiting := len(p.spool)
		p.mu.Unlock()
		if waiting > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			p.drain(ctx)
			cancel()
		}
	}
}

// drain sends the spool in order until it is empty or a send fails.
func (p *Publisher) drain(ctx context.Context) error {
	p.sending.Lock()
	defer p.sending.Unlock()
	for {
		p.mu.Lock()
		if len(p.spool) == 0 {
			p.mu.Unlock()
			return nil
		}
		e := p.spool[0]
		p.inflight = e.name
		p.mu.Unlock()
		err := p.send(ctx, e)
		p.mu.Lock()
		p.inflight = ""
		if err != nil {
			p.stats.LastSendErr = err.Error()
			p.mu.Unlock()
			return err
		}
		p.stats.LastSendErr = ""
		if len(p.spool) > 0 && p.spool[0].name == e.name {
			p.spool = p.spool[1:]
			p.stats.SpoolBytes -= e.size
		}
		p.mu.Unlock()
	}
}

// errBadSpool marks a spool file set aside: not a send failure.
var errBadSpool = errors.New("bad spool file")

// send publishes one spooled delta and removes its file once the stream
// acknowledged it.
func (p *Publisher) send(ctx context.Context, e spoolEntry) error {
	path := filepath.Join(p.dir, e.name)
	b, err := os.ReadFile(path)
	if err == nil {
		var h header
		var payload []byte
		if h, payload, err = decodeSpool(b); err == nil {
			msg := &nats.Msg{Subject: SubjectPrefix + h.Sensor, Header: h.natsHeader(), Data: payload}
			if _, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(MsgID(h.Sensor, h.Seq))); err != nil {
				return fmt.Errorf("fleet: sending delta %d: %w", h.Seq, err)
			}
			p.mu.Lock()
			p.stats.Sent++
			p.mu.Unlock()
			if err := os.Remove(path); err != nil {
				// Sent twice at worst: the aggregator skips it.
				p.opts.Logf("fleet: spool: %v", err)
			}
			return nil
		}
		err = fmt.Errorf("%w: %v", errBadSpool, err)
	}
	// Unreadable or corrupt: set aside, counted, so that one bad file
	// does not block the deltas after it.
	p.opts.Logf("fleet: spool: %s: %v (set aside as %s)", e.name, err, e.name+badExt)
	_ = os.Rename(path, path+badExt)
	p.mu.Lock()
	p.stats.Bad++
	p.mu.Unlock()
	return nil
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.SpoolDeltas = len(p.spool)
	s.Disconnected = p.nc != nil && !p.nc.IsConnected()
	return s
}

// Close tries to send what the spool holds until ctx is done, then closes
// the connection. What could not be sent stays in the spool for the next
// process; the error says how much.
func (p *Publisher) Close(ctx context.Context) error {
	close(p.stop)
	<-p.loopDone
	var err error
	for {
		if err = p.drain(ctx); err == nil || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	p.nc.Close()
	p.lock.Close()
	if s := p.Stats(); s.SpoolDeltas > 0 {
		return fmt.Errorf("fleet: %d delta(s) (%d bytes) left in the spool %s for the next run: %v", s.SpoolDeltas, s.SpoolBytes, p.dir, err)
	}
	return nil
}
