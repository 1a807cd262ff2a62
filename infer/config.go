package infer

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/infer/schema"
	"github.com/specter-dev/specter/infer/template"
)

// Limits bound a Model. Every limit has a documented behaviour when hit,
// and every hit is counted in Model.Stats. Zero fields take the defaults of
// DefaultLimits.
type Limits struct {
	// MaxServices caps the services (hosts) tracked. Exchanges for further
	// services are dropped (Stats.DroppedServices).
	MaxServices int `yaml:"max_services" json:"max_services,omitempty"`
	// MaxOpsPerService caps the raw operations (method + concrete path
	// position in the trie) of one service. Past it, paths still feed the
	// template evidence but their details are not recorded
	// (Stats.DroppedOps).
	MaxOpsPerService int `yaml:"max_ops_per_service" json:"max_ops_per_service,omitempty"`
	// Trie bounds the path trie of each service: distinct values kept per
	// position (beyond: folded into an overflow node, which makes the
	// position a parameter), nodes per service, depth, segment length.
	Trie template.Limits `yaml:"trie" json:"trie"`
	// MaxParams caps the query parameters, headers and cookies tracked per
	// operation (each); others are counted in Operation.ParamsDropped.
	MaxParams int `yaml:"max_params" json:"max_params,omitempty"`
	// MaxMediaTypes caps the media types tracked per request or response of
	// an operation; others are counted in Operation.BodiesDropped.
	MaxMediaTypes int `yaml:"max_media_types" json:"max_media_types,omitempty"`
	// MaxStatuses caps the distinct status codes tracked per operation;
	// others are counted under "other".
	MaxStatuses int `yaml:"max_statuses" json:"max_statuses,omitempty"`
	// MaxExampleBytes caps one stored (redacted) example body; 0 keeps the
	// default, negative keeps no examples. One example is kept per
	// operation, response status and media type: the first seen.
	MaxExampleBytes int `yaml:"max_example_bytes" json:"max_example_bytes,omitempty"`
	// MaxSamplers caps the body-sampling counters per service (one per
	// method and path shape); past it, shapes share one counter.
	MaxSamplers int `yaml:"max_samplers" json:"max_samplers,omitempty"`
	// MinBodySamples is how many bodies of each operation, response status
	// and media type (and of each request media type) are observed even
	// when the sampler skips them, so that a rare status (a 400 among
	// thousands of 200s) keeps its body schema. It is bounded by the
	// statuses and media types tracked per operation (MaxStatuses,
	// MaxMediaTypes); bodies observed this way are counted in
	// Stats.MinSampled. 0 keeps the default, negative turns it off.
	MinBodySamples int `yaml:"min_body_samples" json:"min_body_samples,omitempty"`
	// MaxProcesses caps the process names recorded per operation (eBPF
	// capture); others are counted under "other".
	MaxProcesses int `yaml:"max_processes" json:"max_processes,omitempty"`
	// MaxBytes caps the inventory's estimated size in memory: a fixed
	// estimate per service, trie node and operation (see costService in
	// scan.go), since counts alone let 1,000 services of 20,000 operations
	// each through. Past it, exchanges that would need a new service or
	// operation are dropped (Stats.DroppedBudget); known operations still
	// count them.
	MaxBytes int64 `yaml:"max_bytes" json:"max_bytes,omitempty"`
	// Operations bounds the GraphQL, JSON-RPC and SOAP operations found
	// behind each endpoint (see package operations).
	Operations operations.Limits `yaml:"operations" json:"operations"`
	// MaxGRPCServices caps the gRPC services tracked per service (host);
	// MaxGRPCMethods the methods per gRPC service. Calls past them are
	// counted in Stats.DroppedGRPC.
	MaxGRPCServices int `yaml:"max_grpc_services" json:"max_grpc_services,omitempty"`
	MaxGRPCMethods  int `yaml:"max_grpc_methods" json:"max_grpc_methods,omitempty"`
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxServices:      1024,
		MaxOpsPerService: 20000,
		Trie:             template.DefaultLimits(),
		MaxParams:        64,
		MaxMediaTypes:    8,
		MaxStatuses:      32,
		MaxExampleBytes:  4096,
		MaxSamplers:      4096,
		MinBodySamples:   8,
		MaxProcesses:     16,
		MaxBytes:         512 << 20,
		MaxGRPCServices:  256,
		MaxGRPCMethods:   512,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxServices <= 0 {
		l.MaxServices = d.MaxServices
	}
	if l.MaxOpsPerService <= 0 {
		l.MaxOpsPerService = d.MaxOpsPerService
	}
	if l.MaxParams <= 0 {
		l.MaxParams = d.MaxParams
	}
	if l.MaxMediaTypes <= 0 {
		l.MaxMediaTypes = d.MaxMediaTypes
	}
	if l.MaxStatuses <= 0 {
		l.MaxStatuses = d.MaxStatuses
	}
	if l.MaxExampleBytes == 0 {
		l.MaxExampleBytes = d.MaxExampleBytes
	}
	if l.MaxSamplers <= 0 {
		l.MaxSamplers = d.MaxSamplers
	}
	if l.MaxProcesses <= 0 {
		l.MaxProcesses = d.MaxProcesses
	}
	if l.MinBodySamples == 0 {
		l.MinBodySamples = d.MinBodySamples
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxGRPCServices <= 0 {
		l.MaxGRPCServices = d.MaxGRPCServices
	}
	if l.MaxGRPCMethods <= 0 {
		l.MaxGRPCMethods = d.MaxGRPCMethods
	}
	l.Operations = l.Operations.WithDefaults()
	td := template.DefaultLimits()
	if l.Trie.MaxChildren <= 0 {
		l.Trie.MaxChildren = td.MaxChildren
	}
	if l.Trie.MaxNodes <= 0 {
		l.Trie.MaxNodes = td.MaxNodes
	}
	if l.Trie.MaxDepth <= 0 {
		l.Trie.MaxDepth = td.MaxDepth
	}
	if l.Trie.MaxSegment <= 0 {
		l.Trie.MaxSegment = td.MaxSegment
	}
	return l
}

// ServiceConfig steers one service (or all services whose host matches
// Host, a path.Match glob such as "*.example.com").
type ServiceConfig struct {
	Host string `yaml:"host"`
	// Templates are forced templates ("/users/{id}"): paths matching one are
	// reported under it, as with a declared spec (see Model.SetPrior).
	Templates []string `yaml:"templates"`
	// Static lists segment values that are never parameters here.
	Static []string `yaml:"static"`
}

// Config steers a Model. The zero value is usable.
//
// LoadConfig reads it from YAML:
//
//	limits:                  # all optional; see Limits
//	  max_services: 1024
//	  max_ops_per_service: 20000
//	  max_params: 64
//	  max_bytes: 134217728   # estimated inventory size
//	  trie: {max_children: 128, max_nodes: 20000, max_depth: 24, max_segment: 128}
//	static: [me, self]       # segment values never made parameters, any service
//	ignore:
//	  hosts: ["*.internal", "metrics.example.com"]   # path.Match globs on the host (no port)
//	  paths: ["/health", "/static/**", "/*/ping"]    # path.Match globs; a trailing /** matches any suffix
//	services:
//	  - host: api.example.com                        # a glob, like ignore.hosts
//	    templates: ["/users/{id}", "/c/{slug}/{id}.json"]
//	    static: [current]
//
// See testdata/example-config.yaml.
type Config struct {
	Limits   Limits          `yaml:"limits"`
	Static   []string        `yaml:"static"`
	Services []ServiceConfig `yaml:"services"`
	Ignore   struct {
		Hosts []string `yaml:"hosts"`
		Paths []string `yaml:"paths"`
	} `yaml:"ignore"`
	// Schema bounds body schema inference (not read from YAML: the
	// defaults of schema.DefaultOptions are used when zero).
	Schema schema.Options `yaml:"-"`
}

// LoadConfig reads a YAML config file (format: see Config). Unknown keys
// are an error, so that typos do not silently do nothing.
func LoadConfig(file string) (Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return Config{}, fmt.Errorf("infer: config: %w", err)
	}
	return ParseConfig(b, file)
}

// ParseConfig parses YAML config bytes; name is used in errors.
func ParseConfig(b []byte, name string) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && err.Error() != "EOF" {
		return Config{}, fmt.Errorf("infer: config %s: %w", name, configError(b, err))
	}
	for i, s := range c.Services {
		if _, err := path.Match(s.Host, ""); err != nil {
			return Config{}, fmt.Errorf("infer: config %s: services[%d].host %q: %w", name, i, s.Host, err)
		}
		for j, t := range s.Templates {
			if !strings.HasPrefix(t, "/") {
				return Config{}, fmt.Errorf("infer: config %s: services[%d].templates[%d] %q: must start with /", name, i, j, t)
			}
		}
	}
	for _, g := range append(append([]string(nil), c.Ignore.Hosts...), c.Ignore.Paths...) {
		if _, err := path.Match(g, ""); err != nil {
			return Config{}, fmt.Errorf("infer: config %s: ignore glob %q: %w", name, g, err)
		}
	}
	return c, nil
}

func (c *Config) ignoredHost(host string) bool {
	h := stripPort(host)
	for _, g := range c.Ignore.Hosts {
		if ok, _ := path.Match(g, h); ok {
			return true
		}
	}
	return false
}

func (c *Config) ignoredPath(p string) bool {
	for _, g := range c.Ignore.Paths {
		if strings.HasSuffix(g, "/**") {
			pre := strings.TrimSuffix(g, "/**")
			if ok, _ := path.Match(pre, p); ok {
				return true
			}
			segs := strings.Count(pre, "/")
			parts := strings.SplitAfterN(p, "/", segs+2)
			if len(parts) > segs+1 {
				head := strings.TrimSuffix(strings.Join(parts[:segs+1], ""), "/")
				if ok, _ := path.Match(pre, head); ok {
					return true
				}
			}
			continue
		}
		if ok, _ := path.Match(g, p); ok {
			return true
		}
	}
	return false
}

// serviceOptions returns the template options configured for a service.
func (c *Config) serviceOptions(service string) (templates, static []string) {
	static = append(static, c.Static...)
	h := stripPort(service)
	for _, s := range c.Services {
		if ok, _ := path.Match(s.Host, h); ok || s.Host == service {
			templates = append(templates, s.Templates...)
			static = append(static, s.Static...)
		}
	}
	return templates, static
}

func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.Index(h, "]"); i > 0 {
			return h[1:i]
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		return h[:i]
	}
	return h
}
